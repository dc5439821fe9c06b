"""Savings opportunities per feature: a smaller model, prompt caching or the batch API, in monthly USD.

For each (team, feature, provider, model) with spend in the trailing window (usage_daily rows),
up to three estimates, each with a one-line assumption a person can check and a confidence:

- smaller_model: the same tokens on the smaller sibling of the same family on the same provider
  (`SMALLER_MODELS`, e.g. gpt-4o -> gpt-4o-mini). A quality trade-off, never a free win: the
  feature must be evaluated on the smaller model first, so confidence is always low.
- prompt_caching: long prompts (average input >= `min_prompt_tokens`, the providers' minimum
  cacheable prompt) sent often enough to keep a cache warm (>= `min_requests_per_day`: one per
  5 minutes, the default cache lifetime) that read little from cache (< `max_cache_read_share`
  of input). Assume `cacheable_share` of the uncached input is a stable prefix (system prompt,
  tools, few-shot examples); `cache_hit_rate` of it is then read at the cache-read price and the
  rest written at the cache-write price (Anthropic's 1.25x premium; OpenAI writes at the input
  price). Medium confidence for very long prompts (>= 4x the minimum), low otherwise.
- batch_api: features on a provider with a batch API that are not already mostly batch
  (< `mostly_batch_share` of requests). Assume `batch_share` of the non-batch requests could wait
  up to 24 h, at the batch price on as_of (the catalog's batch price, or `prices.batch_discount_pct`).
  High confidence when the feature already sends some batch traffic (it has async work), medium
  when its name says offline work (nightly, enrich, backfill...), low otherwise.

How the money is estimated:
- current_monthly_usd = the group's cost_usd in the window / days since it first appears in the
  window (up to as_of) * 30. A month is 30 days, so the default 30-day window reads as-is.
- estimated_monthly_usd = current * cost(alternative tokens) / cost(today's tokens), both priced
  at the unit prices in effect on as_of (`tokenomics.pricing.unit_prices`, overrides included),
  blending standard and batch prices by the group's share of batch requests. As a ratio, what the
  catalog does not know (negotiated discounts in cost_usd, older price versions) carries over.
  Prompt-size tiers are not applied (base prices): long-prompt Gemini Pro traffic is
  under-estimated, so its savings are conservative.
- Amounts are rounded to cents (half to even); monthly_savings_usd = current - estimated.
  Opportunities below `min_monthly_savings_usd` are dropped.

Skipped: groups the catalog cannot price on as_of (unknown or 'reported'-only models), groups
with no cost in the window, models with no smaller sibling in the table, smaller models the
catalog cannot price on that provider. Unit prices are looked up once per distinct model; the
arithmetic is vectorized over groups.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from tokenomics.config import PricesConfig
from tokenomics.model_key import model_family
from tokenomics.pricing import UnitPrices, unit_prices
from tokenomics.pricing.units import PER_MILLION
from tokenomics.schema import MONEY

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

MONTH_DAYS = 30
"""A month, for monthly figures here and in tokenomics.advice.tco (720 GPU-hours)."""

OPPORTUNITIES = ("smaller_model", "prompt_caching", "batch_api")
KEYS = ("team", "feature", "provider", "model")

SAVINGS_SCHEMA: dict[str, PolarsDataType] = {
    "as_of": pl.Date,
    "team": pl.String,
    "feature": pl.String,
    "provider": pl.String,
    "model": pl.String,
    "opportunity": pl.String,
    "target_model": pl.String,
    "current_monthly_usd": MONEY,
    "estimated_monthly_usd": MONEY,
    "monthly_savings_usd": MONEY,
    "assumption": pl.String,
    "confidence": pl.String,
}

_PER_TOKEN = pl.Decimal(38, 18)
_RATIO = pl.Decimal(38, 18)
_QUANTUM = Decimal("1e-18")
_TOKEN_KINDS = ("input", "cache_read", "cache_write", "output")  # input: uncached input only


@dataclass(frozen=True)
class SmallerModel:
    """A cheaper sibling in the same family: `families` (see `model_family`) -> `target`.

    `by_provider` spells the target where a provider names models its own way (Bedrock ids).
    """

    families: tuple[str, ...]
    target: str
    by_provider: Mapping[str, str] = field(default_factory=dict)

    def target_for(self, provider: str | None) -> str:
        return self.by_provider.get(provider or "", self.target)


SMALLER_MODELS: tuple[SmallerModel, ...] = (
    SmallerModel(("gpt-4o",), "gpt-4o-mini"),
    SmallerModel(("gpt-4.1",), "gpt-4.1-mini"),
    SmallerModel(("gpt-4.1-mini",), "gpt-4.1-nano"),
    SmallerModel(("gpt-5",), "gpt-5-mini"),
    SmallerModel(("gpt-5-mini",), "gpt-5-nano"),
    SmallerModel(("o3",), "o4-mini"),
    SmallerModel(
        ("claude-opus-4", "claude-4-opus"),
        "claude-sonnet-4",
        {"aws_bedrock": "anthropic.claude-sonnet-4-20250514-v1:0"},
    ),
    SmallerModel(
        ("claude-sonnet-4", "claude-4-sonnet", "claude-3-7-sonnet", "claude-3-5-sonnet"),
        "claude-3-5-haiku",
        {"aws_bedrock": "anthropic.claude-3-5-haiku-20241022-v1:0"},
    ),
    SmallerModel(
        ("claude-sonnet-4-5",), "claude-haiku-4-5", {"aws_bedrock": "anthropic.claude-haiku-4-5-20251001-v1:0"}
    ),
    SmallerModel(("gemini-2.5-pro",), "gemini-2.5-flash"),
    SmallerModel(("gemini-2.5-flash",), "gemini-2.5-flash-lite"),
)
"""Same provider, same family, one size down. Models not listed (gpt-4o-mini, claude-3-5-haiku,
gemini-2.5-flash-lite, o4-mini...) are already the smallest of their family here."""

BATCH_PROVIDERS = frozenset(
    {"openai", "azure_openai", "anthropic", "aws_bedrock", "gcp_vertex", "google_ai", "mistral"}
)
"""Providers with an asynchronous batch API at a discount."""

OFFLINE_WORDS = (
    "nightly",
    "daily",
    "weekly",
    "batch",
    "bulk",
    "backfill",
    "offline",
    "enrich",
    "report",
    "digest",
    "eval",
    "etl",
    "cron",
    "index",
    "embed",
)
"""Feature-name words that suggest work nobody waits for."""


@dataclass(frozen=True)
class SavingsRules:
    """The assumptions behind the estimates; every one is printed in the row's assumption line."""

    smaller_models: tuple[SmallerModel, ...] = SMALLER_MODELS
    min_prompt_tokens: int = 1024
    min_requests_per_day: int = 288
    max_cache_read_share: Decimal = Decimal("0.10")
    cacheable_share: Decimal = Decimal("0.50")
    cache_hit_rate: Decimal = Decimal("0.90")
    batch_share: Decimal = Decimal("0.50")
    mostly_batch_share: Decimal = Decimal("0.50")
    batch_providers: frozenset[str] = BATCH_PROVIDERS
    offline_words: tuple[str, ...] = OFFLINE_WORDS
    min_monthly_savings_usd: Decimal = Decimal("0.01")


def as_rules(rules: SavingsRules | Mapping | None) -> SavingsRules:
    """SavingsRules from None (defaults), a mapping of its field names, or SavingsRules itself."""
    if rules is None or isinstance(rules, SavingsRules):
        return rules or SavingsRules()
    defaults = {f.name: f.default for f in fields(SavingsRules)}
    if unknown := sorted(set(rules) - set(defaults)):
        raise ValueError(f"unknown savings rule '{unknown[0]}' (expected one of: {', '.join(sorted(defaults))})")
    coerced: dict[str, Any] = {k: Decimal(str(v)) if isinstance(defaults[k], Decimal) else v for k, v in rules.items()}
    return SavingsRules(**coerced)


def smaller_model(provider: str | None, model: str, rules: SavingsRules | None = None) -> str | None:
    """The smaller sibling of `model` on `provider` per the substitution table, or None."""
    family = model_family(model)
    for entry in (rules or SavingsRules()).smaller_models:
        if family in entry.families:
            return entry.target_for(provider)
    return None


def savings_opportunities(
    usage: pl.DataFrame,
    *,
    as_of: date,
    window_days: int = 30,
    prices: PricesConfig | None = None,
    rules: SavingsRules | Mapping | None = None,
) -> pl.DataFrame:
    """Monthly savings per (team, feature, provider, model) and opportunity over the trailing window.

    `usage` holds usage_daily rows (any days; only [as_of - window_days + 1, as_of] are read).
    Rows are sorted by savings, largest first; see the module docstring for every assumption.
    """
    rules = as_rules(rules)
    groups = _window_groups(usage, as_of, window_days)
    if groups.is_empty():
        return pl.DataFrame(schema=SAVINGS_SCHEMA)
    pairs = groups.select("provider", "model").unique().rows()
    table = _price_table(pairs, as_of, prices, rules)
    if table.is_empty():
        return pl.DataFrame(schema=SAVINGS_SCHEMA)
    priced = groups.join(table, on=["provider", "model"], how="inner", nulls_equal=True)
    priced = priced.filter(_cost(_tokens(), "cur") > 0)  # cost_usd without priceable tokens: no ratio
    candidates = pl.concat(
        [_smaller_model_rows(priced), _prompt_caching_rows(priced, rules), _batch_api_rows(priced, rules)],
        how="vertical",
    )
    return _finish(candidates, as_of, rules)


# --------------------------------------------------------------------------------------------
# the window


def _window_groups(usage: pl.DataFrame, as_of: date, window_days: int) -> pl.DataFrame:
    """Window totals per group, with the batch fraction and the monthly cost (not yet rounded)."""
    if usage.is_empty() or window_days < 1:
        return pl.DataFrame()
    first = as_of - timedelta(days=window_days - 1)

    def total(column: str) -> pl.Expr:
        return (pl.col(column).fill_null(0) if column in usage.columns else pl.lit(0, pl.Int64)).sum()

    window = usage.filter(pl.col("day").is_between(first, as_of))
    if window.is_empty():
        return pl.DataFrame()
    days_seen = (pl.lit(as_of) - pl.col("day").min()).dt.total_days() + 1
    groups = window.group_by(list(KEYS)).agg(
        days_seen.alias("days_seen"),
        total("requests").alias("requests"),
        total("batch_requests").alias("batch_requests"),
        total("input_tokens").alias("input_tokens"),
        total("cache_read_tokens").alias("cache_read_tokens"),
        total("cache_write_tokens").alias("cache_write_tokens"),
        total("output_tokens").alias("output_tokens"),
        pl.col("cost_usd").cast(MONEY).fill_null(0).sum().alias("cost_usd"),
    )
    uncached = pl.col("input_tokens") - pl.col("cache_read_tokens") - pl.col("cache_write_tokens")
    return groups.filter((pl.col("cost_usd") > 0) & (pl.col("requests") > 0)).with_columns(
        uncached.clip(lower_bound=0).alias("uncached_tokens"),
        (pl.col("batch_requests").cast(_RATIO) / pl.col("requests").cast(_RATIO)).alias("_batch_fraction"),
        (pl.col("cost_usd") * MONTH_DAYS / pl.col("days_seen")).alias("_current"),
    )


# --------------------------------------------------------------------------------------------
# prices: one lookup per distinct model (and its smaller sibling)


def _price_table(pairs: list[tuple], as_of: date, prices: PricesConfig | None, rules: SavingsRules) -> pl.DataFrame:
    """Per (provider, model): standard and batch per-token prices of it and of its smaller sibling."""
    rows = []
    for provider, model in pairs:
        current = unit_prices(provider, model, as_of, prices=prices)
        if current is None:
            continue  # unpriced: nothing to compare against
        current_batch = _batch_prices(provider, model, as_of, prices, rules) or current
        target = smaller_model(provider, model, rules)
        target_std = unit_prices(provider, target, as_of, prices=prices) if target else None
        if target_std is None or target_std.model_id == current.model_id:
            target, target_std = None, None
        target_batch = (_batch_prices(provider, target, as_of, prices, rules) or target_std) if target_std else None
        rows.append(
            {
                "provider": provider,
                "model": model,
                "target_model": target,
                **_per_token("cur_std", current),
                **_per_token("cur_batch", current_batch),
                **_per_token("tgt_std", target_std),
                **_per_token("tgt_batch", target_batch),
                "_price_text": _price_text(current),
                "_target_price_text": _price_text(target_std) if target_std else None,
                "_cache_text": f"${_dollars(current.cache_read)}/M (writes ${_dollars(current.cache_write)}/M) "
                f"instead of ${_dollars(current.input)}/M",
                "_batch_off_pct": _discount_pct(current, current_batch),
            }
        )
    schema: dict[str, PolarsDataType] = {"provider": pl.String, "model": pl.String, "target_model": pl.String}
    for prefix in ("cur_std", "cur_batch", "tgt_std", "tgt_batch"):
        schema |= {f"{prefix}_{kind}": _PER_TOKEN for kind in _TOKEN_KINDS}
    schema |= {
        "_price_text": pl.String,
        "_target_price_text": pl.String,
        "_cache_text": pl.String,
        "_batch_off_pct": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _batch_prices(provider, model, as_of, prices, rules) -> UnitPrices | None:
    if provider not in rules.batch_providers:
        return None
    return unit_prices(provider, model, as_of, is_batch=True, prices=prices)


def _per_token(prefix: str, unit: UnitPrices | None) -> dict[str, Decimal | None]:
    return {
        f"{prefix}_{kind}": None if unit is None else (getattr(unit, kind) / PER_MILLION).quantize(_QUANTUM)
        for kind in _TOKEN_KINDS
    }


def _dollars(value: Decimal) -> str:
    """$ amount for an assumption line: 2.50, 0.075, 10.00."""
    text = format(value.normalize(), "f")
    return f"{value:.2f}" if len(text.partition(".")[2]) <= 2 else text


def _price_text(unit: UnitPrices) -> str:
    return f"${_dollars(unit.input)}/${_dollars(unit.output)} per M in/out"


def _discount_pct(standard: UnitPrices, batch: UnitPrices) -> str | None:
    """The batch discount on input, as the assumption line prints it ('50'); None when there is none."""
    if standard.input <= 0 or batch.input >= standard.input:
        return None
    return _pct(1 - batch.input / standard.input)


def _pct(fraction: Decimal) -> str:
    return format((fraction * 100).quantize(Decimal("0.1")).normalize(), "f")


# --------------------------------------------------------------------------------------------
# the three opportunities: each gives the alternative's cost relative to today's


def _tokens(**moved: pl.Expr) -> dict[str, pl.Expr]:
    base = {
        "input": pl.col("uncached_tokens"),
        "cache_read": pl.col("cache_read_tokens"),
        "cache_write": pl.col("cache_write_tokens"),
        "output": pl.col("output_tokens"),
    }
    return base | moved


def _cost(tokens: dict[str, pl.Expr], prices: str, batch_fraction: pl.Expr | None = None) -> pl.Expr:
    """Cost of `tokens` at the `prices` columns ('cur' or 'tgt'), standard and batch blended by request share."""
    fraction = pl.col("_batch_fraction") if batch_fraction is None else batch_fraction

    def at(variant: str) -> pl.Expr:
        terms = [tokens[kind] * pl.col(f"{prices}_{variant}_{kind}") for kind in _TOKEN_KINDS]
        return functools.reduce(operator.add, terms)

    return (at("std") * (1 - fraction) + at("batch") * fraction).cast(_PER_TOKEN)


def _ratio(alternative: pl.Expr) -> pl.Expr:
    return (alternative / _cost(_tokens(), "cur")).cast(_RATIO)


def _smaller_model_rows(priced: pl.DataFrame) -> pl.DataFrame:
    rows = priced.filter(pl.col("target_model").is_not_null())
    return _candidate(
        rows,
        "smaller_model",
        _ratio(_cost(_tokens(), "tgt")),
        pl.format(
            "same tokens on {} ({}) instead of {} ({}); quality trade-off: evaluate the feature on it before switching",
            pl.col("target_model"),
            pl.col("_target_price_text"),
            pl.col("model"),
            pl.col("_price_text"),
        ),
        pl.lit("low"),
    )


def _prompt_caching_rows(priced: pl.DataFrame, rules: SavingsRules) -> pl.DataFrame:
    avg_prompt = pl.col("input_tokens") / pl.col("requests")
    read_share = pl.col("cache_read_tokens") / pl.col("input_tokens")
    per_day = pl.col("requests") / pl.col("days_seen")
    rows = priced.filter(
        (avg_prompt >= rules.min_prompt_tokens)
        & (read_share < float(rules.max_cache_read_share))
        & (per_day >= rules.min_requests_per_day)
    )
    prefix = pl.col("uncached_tokens") * pl.lit(rules.cacheable_share, _RATIO)
    hits = prefix * pl.lit(rules.cache_hit_rate, _RATIO)
    alternative = _tokens(
        input=pl.col("uncached_tokens") - prefix,
        cache_read=pl.col("cache_read_tokens") + hits,
        cache_write=pl.col("cache_write_tokens") + (prefix - hits),
    )
    assumption = pl.format(
        "avg prompt {} tokens, {}% read from cache: assume {}% of it is a stable prefix put first, "
        "{}% of that read from cache at {}",
        avg_prompt.round(0).cast(pl.Int64),
        (read_share * 100).round(0).cast(pl.Int64),
        pl.lit(_pct(rules.cacheable_share)),
        pl.lit(_pct(rules.cache_hit_rate)),
        pl.col("_cache_text"),
    )
    long_prompts = pl.col("uncached_tokens") / pl.col("requests") >= 4 * rules.min_prompt_tokens
    confidence = pl.when(long_prompts).then(pl.lit("medium")).otherwise(pl.lit("low"))
    return _candidate(rows, "prompt_caching", _ratio(_cost(alternative, "cur")), assumption, confidence)


def _batch_api_rows(priced: pl.DataFrame, rules: SavingsRules) -> pl.DataFrame:
    rows = priced.filter(
        pl.col("provider").is_in(sorted(rules.batch_providers))
        & pl.col("_batch_off_pct").is_not_null()
        & (pl.col("_batch_fraction") < pl.lit(rules.mostly_batch_share, _RATIO))
    )
    share = pl.lit(rules.batch_share, _RATIO)
    moved = pl.col("_batch_fraction") + share * (1 - pl.col("_batch_fraction"))
    non_batch_pct = ((1 - pl.col("_batch_fraction").cast(pl.Float64)) * 100).round(0).cast(pl.Int64)
    assumption = pl.format(
        "{}% of its non-batch traffic ({}% of requests today) could wait up to 24 h: batch API at {}% off",
        pl.lit(_pct(rules.batch_share)),
        non_batch_pct,
        pl.col("_batch_off_pct"),
    )
    words = "|".join(re.escape(word) for word in rules.offline_words)
    offline = pl.col("feature").fill_null("").str.to_lowercase().str.contains(words) if words else pl.lit(False)
    confidence = (
        pl.when(pl.col("batch_requests") > 0)
        .then(pl.lit("high"))
        .when(offline)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    return _candidate(rows, "batch_api", _ratio(_cost(_tokens(), "cur", moved)), assumption, confidence)


def _candidate(rows: pl.DataFrame, opportunity: str, ratio: pl.Expr, assumption: pl.Expr, confidence: pl.Expr):
    target = pl.col("target_model") if opportunity == "smaller_model" else pl.lit(None, pl.String)
    return rows.select(
        *KEYS,
        pl.lit(opportunity).alias("opportunity"),
        target.alias("target_model"),
        pl.col("_current"),
        (pl.col("_current") * ratio).alias("_estimated"),
        assumption.alias("assumption"),
        confidence.alias("confidence"),
    )


def _finish(candidates: pl.DataFrame, as_of: date, rules: SavingsRules) -> pl.DataFrame:
    current = pl.col("_current").round(2).cast(MONEY)
    estimated = pl.col("_estimated").round(2).cast(MONEY)
    out = candidates.with_columns(
        pl.lit(as_of, pl.Date).alias("as_of"),
        current.alias("current_monthly_usd"),
        estimated.alias("estimated_monthly_usd"),
        (current - estimated).alias("monthly_savings_usd"),
    )
    keep = pl.col("monthly_savings_usd") >= pl.lit(rules.min_monthly_savings_usd, MONEY)
    order = pl.col("opportunity").replace_strict({o: i for i, o in enumerate(OPPORTUNITIES)}, return_dtype=pl.Int8)
    return (
        out.filter(keep)
        .sort(
            [pl.col("monthly_savings_usd"), *map(pl.col, KEYS), order],
            descending=[True, False, False, False, False, False],
            nulls_last=True,
        )
        .select(pl.col(name).cast(dtype) for name, dtype in SAVINGS_SCHEMA.items())
    )
