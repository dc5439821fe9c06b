"""Which price applies to a (day, provider, model, batch, tier): the user's dated overrides, then the catalog.

The first override whose provider, model glob (on the raw model string), service tier (when it
names one) and window [effective_from, effective_to) match wins, for that day only; days outside
every window use the catalog. A unit-price override prices the model outright (batch rows get its batch discount);
a discount override takes `discount_pct` off the catalog price resolved for that day and does
nothing for a model the catalog cannot price. Re-running a past day after adding an override
re-prices it: nothing here depends on when the pipeline runs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, time
from decimal import Decimal

from tokenomics.config import PriceOverride, PricesConfig, glob_regex
from tokenomics.pricing.catalog import DEFAULT_TIME, STANDARD_TIERS, catalog_prices, find_model
from tokenomics.pricing.units import UnitPrices, pct_text


def unit_prices(
    provider: str | None,
    model: str | None,
    day: date,
    is_batch: bool = False,
    service_tier: str | None = "default",
    prices: PricesConfig | None = None,
    at: time | None = None,
) -> UnitPrices | None:
    """Per-million unit prices for one model on one UTC day, or None when nothing can price it.

    `at` (UTC time of day) only matters for catalog entries with off-peak windows
    (`UnitPrices.varies_by_time_of_day`); it defaults to noon.
    """
    if not model or day is None:
        return None
    prices = prices if prices is not None else PricesConfig()
    at = at or DEFAULT_TIME
    batch_pct = prices.batch_discount_pct
    catalog = catalog_prices(provider, model, day, bool(is_batch), service_tier, batch_pct, at)
    for override in prices.overrides:
        if not _applies(override, provider, model, day, service_tier):
            continue
        discount_pct = override.discount_pct
        if discount_pct is not None:
            if catalog is None:
                continue
            return _as_override(
                catalog.scaled(1 - discount_pct / 100),
                f"override:{override.name}(-{pct_text(discount_pct)}%)|{catalog.price_ref}",
            )
        return _unit_override(override, provider, model, bool(is_batch), batch_pct)
    return catalog


def _applies(override: PriceOverride, provider: str | None, model: str, day: date, service_tier: str | None) -> bool:
    if override.provider != "*" and override.provider != provider:
        return False
    if not (override.effective_from <= day and (override.effective_to is None or day < override.effective_to)):
        return False
    if override.service_tier is not None and _tier(service_tier) != _tier(override.service_tier):
        return False
    return re.fullmatch(glob_regex(override.model), model) is not None


def _tier(service_tier: str | None) -> str:
    tier = (service_tier or "").strip().lower()
    return "default" if tier in STANDARD_TIERS else tier


def _unit_override(
    override: PriceOverride, provider: str | None, model: str, is_batch: bool, batch_pct: Decimal
) -> UnitPrices:
    input_price, output_price = override.input_per_mtok, override.output_per_mtok
    if input_price is None or output_price is None:  # PriceOverride's validator rules this out
        raise ValueError(f"price override {override.name}: needs input_per_mtok and output_per_mtok, or discount_pct")
    unit = UnitPrices(
        input=input_price,
        output=output_price,
        cache_read=override.cache_read_per_mtok if override.cache_read_per_mtok is not None else input_price,
        cache_write=override.cache_write_per_mtok if override.cache_write_per_mtok is not None else input_price,
        # usage_daily groups by model_id: keep a private model visible under its own name
        model_id=_catalog_id(provider, model) or model,
        price_ref=f"override:{override.name}",
        cost_source="override",
    )
    if not is_batch:
        return unit
    pct = override.batch_discount_pct if override.batch_discount_pct is not None else batch_pct
    return _as_override(unit.scaled(1 - pct / 100), f"override:{override.name}+batch-{pct_text(pct)}%")


def _as_override(unit: UnitPrices, price_ref: str) -> UnitPrices:
    return replace(unit, price_ref=price_ref, cost_source="override")


def _catalog_id(provider: str | None, model: str) -> str | None:
    found = find_model(provider, model)
    return found[1].id if found else None
