"""Unit prices from the bundled genai-prices catalog: offline, pinned, date-effective.

Never call genai_prices.UpdatePrices: the pipeline runs air-gapped and a cost must be a pure
function of the rows, the config and the installed catalog version (recorded in price_ref).

What we take from a catalog entry, resolved for one day:
- the standard price in effect that day (its dated history, `StartDateConstraint`);
- the batch (`processing: batch`) and service-tier variants when the catalog has them for that
  day; batch without a catalog variant gets our own discount (`prices.batch_discount_pct`) and
  says so in price_ref; a service tier without a variant is priced at the standard rate and
  price_ref says "(not in catalog)";
- token prices only: input, output, cache read, cache write (5-minute writes; the 1-hour cache
  write price is not used because usage rows do not split writes by TTL). Missing cache prices
  fall back to the input price, a missing output price is 0 (embedding models). A model with no
  input price is not token-priced: it stays unpriced. Audio token prices (`input_audio_mtok`,
  `output_audio_mtok`) apply to the rows' audio subsets; per-request, web-search and image prices are
  not applied;
- prompt-size tiers (`TieredPrices`, e.g. Gemini 2.5 Pro above 200k), kept as `UnitPrices.tiers`;
- time-of-day windows (DeepSeek off-peak): flagged, and priced by the caller per request minute.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib.metadata import version

from genai_prices import data_snapshot
from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    Provider,
    StartDateConstraint,
    TieredPrices,
    TimeOfDateConstraint,
)

from tokenomics.pricing.units import PriceTier, TokenPrices, UnitPrices, pct_text

CATALOG = f"genai-prices=={version('genai-prices')}"

PROVIDER_IDS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "aws_bedrock": "aws",
    "azure_openai": "azure",
    "gcp_vertex": "google",
    "google_ai": "google",
    "mistral": "mistral",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "xai": "x-ai",
    "openrouter": "openrouter",
}
"""Canonical provider -> genai-prices provider id. 'other' and null let the catalog infer the
provider from the model name; a canonical name that is itself a catalog id is used as is."""

STANDARD_TIERS = frozenset({"", "default", "standard", "auto", "on_demand", "on-demand"})
"""Service tier values that mean the standard price."""

DEFAULT_TIME = time(12, 0)
"""Time of day used when a caller prices a whole day at once: only off-peak windows depend on it."""


def catalog_provider_id(provider: str | None) -> str | None:
    """The genai-prices provider id for a canonical provider, or None to infer it from the model."""
    if provider is None:
        return None
    if provider in PROVIDER_IDS:
        return PROVIDER_IDS[provider]
    return provider if provider in _catalog_provider_ids() else None


@functools.cache
def _catalog_provider_ids() -> frozenset[str]:
    return frozenset(p.id for p in data_snapshot.get_snapshot().providers)


@functools.lru_cache(maxsize=16_384)
def find_model(provider: str | None, model: str) -> tuple[Provider, ModelInfo] | None:
    """The catalog entry a raw model string prices as, or None.

    Tries the string as reported, then the part after the last '/' (LiteLLM "openai/gpt-4o",
    Vertex "publishers/google/models/gemini-2.5-pro", Bedrock ARNs).
    """
    snapshot = data_snapshot.get_snapshot()
    provider_id = catalog_provider_id(provider)
    candidates = [model]
    if "/" in model:
        candidates.append(model.rsplit("/", 1)[1])
    for candidate in candidates:
        if not candidate.strip():
            continue
        try:
            return snapshot.find_provider_model(candidate, None, provider_id, None)
        except LookupError:
            continue
    return None


@functools.lru_cache(maxsize=65_536)
def catalog_prices(
    provider: str | None,
    model: str,
    day: date,
    is_batch: bool = False,
    service_tier: str | None = None,
    batch_discount_pct: Decimal = Decimal(50),
    at: time = DEFAULT_TIME,
) -> UnitPrices | None:
    """Catalog unit prices for `model` on `day` (UTC), or None when the catalog cannot price it."""
    found = find_model(provider, model)
    if found is None:
        return None
    catalog_provider, entry = found
    when = datetime.combine(day, at, tzinfo=UTC)
    context = _price_context(is_batch, service_tier)
    # genai-prices applies variants only to a provider's own models, not to fallbacks (Azure -> OpenAI)
    own_model = any(entry is m for m in catalog_provider.models)
    resolved = entry.get_prices(when, context if own_model else None)
    covered = _covered_context_keys(entry, when, context) if own_model else set()

    prices = _token_prices(resolved)
    if prices is None:
        return None
    base, tiers = prices
    ref = f"{CATALOG}:{catalog_provider.id}/{entry.id}{_version_suffix(entry, when)}"
    if is_batch and "processing" in covered:
        ref += "+batch"
    elif is_batch:
        ref += f"+batch-{pct_text(batch_discount_pct)}%"
    tier = context.get("service_tier")
    if tier is not None:
        ref += f"+tier:{tier}" if "service_tier" in covered else f"+tier:{tier}(not in catalog)"
    unit = UnitPrices(
        input=base.input,
        output=base.output,
        cache_read=base.cache_read,
        cache_write=base.cache_write,
        model_id=entry.id,
        price_ref=ref,
        cost_source="catalog",
        tiers=tiers,
        varies_by_time_of_day=_has_time_windows(entry),
        input_audio=_flat(resolved.input_audio_mtok),
        output_audio=_flat(resolved.output_audio_mtok),
    )
    if is_batch and "processing" not in covered:
        unit = unit.scaled(1 - batch_discount_pct / 100)
    return unit


def _flat(price: Decimal | TieredPrices | None) -> Decimal | None:
    """A price that does not depend on the prompt size (a tiered one: its base)."""
    return price.base if isinstance(price, TieredPrices) else price


def _price_context(is_batch: bool, service_tier: str | None) -> dict[str, str]:
    context: dict[str, str] = {}
    if is_batch:
        context["processing"] = "batch"
    tier = (service_tier or "").strip().lower()
    if tier not in STANDARD_TIERS:
        context["service_tier"] = tier
    return context


def _covered_context_keys(entry: ModelInfo, when: datetime, context: dict[str, str]) -> set[str]:
    """Context keys (processing, service_tier) a catalog variant actually priced on this day."""
    covered: set[str] = set()
    for variant in entry.price_variants or ():
        if variant.constraint is not None and not variant.constraint.active(when):
            continue
        if not all(context.get(key) == value for key, value in variant.when.items()):
            continue
        if any(price is not None for price in variant.prices.__dict__.values()):
            covered.update(variant.when)
    return covered


def _token_prices(resolved: ModelPrice) -> tuple[TokenPrices, tuple[PriceTier, ...]] | None:
    """Base and tiered token prices; None when the entry has no input token price."""
    input_mtok = resolved.input_mtok
    if input_mtok is None:
        return None
    raw = (input_mtok, resolved.output_mtok, resolved.cache_read_mtok, resolved.cache_write_mtok)
    thresholds = sorted({tier.start for price in raw if isinstance(price, TieredPrices) for tier in price.tiers})

    def at(threshold: int | None) -> dict[str, Decimal]:
        input_price = _tier_price(input_mtok, threshold)

        def or_else(price: Decimal | TieredPrices | None, fallback: Decimal) -> Decimal:
            return fallback if price is None else _tier_price(price, threshold)

        return {
            "input": input_price,
            "output": or_else(resolved.output_mtok, Decimal(0)),
            "cache_read": or_else(resolved.cache_read_mtok, input_price),
            "cache_write": or_else(resolved.cache_write_mtok, input_price),
        }

    base = TokenPrices(**at(None))
    tiers = tuple(PriceTier(**at(t), above_input_tokens=t) for t in thresholds)
    return base, tiers


def _tier_price(price: Decimal | TieredPrices, threshold: int | None) -> Decimal:
    """The price for a prompt just above `threshold` (None: the base price)."""
    if not isinstance(price, TieredPrices):
        return price
    chosen = price.base
    if threshold is not None:
        for tier in price.tiers:  # sorted ascending by genai-prices
            if tier.start <= threshold:
                chosen = tier.price
    return chosen


def _version_suffix(entry: ModelInfo, when: datetime) -> str:
    """Which dated price applied: '@<start date>' for a dated price change, a UTC window for off-peak."""
    if isinstance(entry.prices, ModelPrice):
        return ""
    for conditional in reversed(entry.prices):
        constraint = conditional.constraint
        if constraint is None or constraint.active(when):
            if isinstance(constraint, StartDateConstraint):
                return f"@{constraint.start_date.isoformat()}"
            if isinstance(constraint, TimeOfDateConstraint):
                return f"@{constraint.start_time:%H:%M}-{constraint.end_time:%H:%M}UTC"
            return ""
    return ""


def _has_time_windows(entry: ModelInfo) -> bool:
    conditionals = [] if isinstance(entry.prices, ModelPrice) else entry.prices
    constraints = [c.constraint for c in conditionals] + [v.constraint for v in entry.price_variants or ()]
    return any(isinstance(c, TimeOfDateConstraint) for c in constraints)
