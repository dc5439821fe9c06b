"""Pricing: dated unit prices (genai-prices catalog plus the user's overrides) and usage row costs."""

from tokenomics.pricing.catalog import CATALOG, PROVIDER_IDS, catalog_provider_id
from tokenomics.pricing.frame import price_usage
from tokenomics.pricing.resolve import unit_prices
from tokenomics.pricing.units import PriceTier, TokenPrices, UnitPrices

__all__ = [
    "CATALOG",
    "PROVIDER_IDS",
    "PriceTier",
    "TokenPrices",
    "UnitPrices",
    "catalog_provider_id",
    "price_usage",
    "unit_prices",
]
