"""Catalog unit prices (genai-prices) per model and day: what LiteLLM's spend and the provider bills are priced with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from functools import cache

from genai_prices import Usage, calc_price

from tokenomics.generator.company import MODELS

_MILLION = Decimal(1_000_000)
_PROBE = 100_000  # below every tier threshold (gemini-2.5-pro changes price above 200k input tokens)

BATCH_DISCOUNT = Decimal("0.5")
"""OpenAI Batch, Anthropic Message Batches, Bedrock and Vertex batch: half the list price."""


@dataclass(frozen=True)
class UnitPrices:
    """USD per token, by token kind; cache kinds fall back to the input price where the catalog has none."""

    input: Decimal
    cache_read: Decimal
    cache_write: Decimal
    output: Decimal

    def cost(self, uncached: int, cache_read: int, cache_write: int, output: int) -> Decimal:
        return (
            uncached * self.input + cache_read * self.cache_read + cache_write * self.cache_write + output * self.output
        )


@cache
def unit_prices(model_key: str, day: date) -> UnitPrices:
    """Per-token list prices of a model on a day, as genai-prices prices it (as its provider bills it
    when the catalog does not know the model)."""
    spec = MODELS[model_key]
    if not spec.in_catalog:
        assert spec.unlisted_prices is not None  # a model outside the catalog carries its own prices
        return UnitPrices(*(Decimal(p) / _MILLION for p in spec.unlisted_prices))
    when = datetime.combine(day, time(12), tzinfo=timezone.utc)

    def probe(**usage: int) -> Decimal:
        calc = calc_price(Usage(**usage), spec.name, provider_id=spec.price_provider, genai_request_timestamp=when)
        return calc.total_price / _PROBE

    return UnitPrices(
        input=probe(input_tokens=_PROBE),
        cache_read=probe(input_tokens=_PROBE, cache_read_tokens=_PROBE),
        cache_write=probe(input_tokens=_PROBE, cache_write_tokens=_PROBE),
        output=probe(output_tokens=_PROBE),
    )
