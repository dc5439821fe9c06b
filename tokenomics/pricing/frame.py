"""Price usage_events rows: unit prices looked up once per group, cost computed as Decimal columns.

A day holds millions of rows but few distinct (day, provider, model, is_batch, service_tier)
groups, so the Python lookup runs once per group and the arithmetic is one vectorized pass:

    cost = (uncached_text_input * input + input_audio * input_audio_price
            + cache_read * cache_read_price + cache_write * cache_write_price
            + text_output * output_price + output_audio * output_audio_price) / 1e6

with reasoning inside output (never added again) and the audio subsets (schema.AUDIO_COLUMNS) taken
out of input and output and priced at the catalog's audio rates (the text rate when it has none). Per-token prices are Decimal(38,18), so the
products and their sum are exact; the result is rounded once (half to even) to MONEY, 12 places.
Prompt-size tiers are chosen per row from its own input_tokens. Catalog entries with off-peak
windows are looked up per (group, UTC minute of the request) instead.

Result columns: model_id, cost_usd, cost_source, price_ref.
- 'catalog' / 'override': priced by us (price_ref names the catalog version and entry, or the override).
- 'reported': the catalog cannot price the model but the source reported a cost, and
  `prices.reported_cost_fallback` is on. A reported 0 for a request with tokens is not trusted.
  model_id stays null, so these rows stay visible as "not priced by us". Rows of a reselling
  gateway (providers.BILLING_GATEWAYS, e.g. OpenRouter) that report a cost are 'reported' always,
  price_ref 'billed:<gateway>': that cost is the bill itself; model_id still names the catalog entry.
- 'unpriced': nothing could price the row; cost_usd is null, never 0.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl

from tokenomics.config import PricesConfig
from tokenomics.pricing.resolve import unit_prices
from tokenomics.pricing.units import AUDIO_KINDS, PER_MILLION, TOKEN_KINDS, TokenPrices, UnitPrices
from tokenomics.providers import BILLING_GATEWAYS
from tokenomics.schema import MONEY, Schema

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

GROUP_KEYS = ("_day", "_provider", "_model", "_batch", "_tier", "_minute")
PER_TOKEN = pl.Decimal(38, 18)
_QUANTUM = Decimal("1e-18")
RESULT_COLUMNS: Schema = {
    "model_id": pl.String,
    "cost_usd": MONEY,
    "cost_source": pl.String,
    "price_ref": pl.String,
}


def price_usage(frame: pl.DataFrame, prices: PricesConfig | None = None) -> pl.DataFrame:
    """`frame` (usage_events rows) with model_id, cost_usd, cost_source and price_ref filled."""
    prices = prices if prices is not None else PricesConfig()
    keyed = frame.with_columns(_group_key_exprs(frame))
    groups = _distinct(keyed, GROUP_KEYS[:-1])
    found = {(*key, None): unit_prices(*_lookup_args(key), prices=prices) for key in groups}
    timed = [key[:-1] for key, unit in found.items() if unit is not None and unit.varies_by_time_of_day]
    if timed and "ts" in frame.columns:
        keyed = _with_request_minute(keyed, timed)
        for key in _distinct(keyed.filter(pl.col("_minute").is_not_null()), GROUP_KEYS):
            at = time(key[-1] // 60, key[-1] % 60)
            found[key] = unit_prices(*_lookup_args(key[:-1]), prices=prices, at=at)
    table, n_tiers = _price_table(found, keyed.select(GROUP_KEYS).schema)
    joined = keyed.join(table, on=list(GROUP_KEYS), how="left", nulls_equal=True, maintain_order="left")
    priced = joined.with_columns(_result_exprs(frame, prices, n_tiers))
    return priced.select([*frame.columns, *(c for c in RESULT_COLUMNS if c not in frame.columns)])


def _distinct(frame: pl.DataFrame, columns: tuple[str, ...]) -> list[tuple]:
    return list(frame.select(columns).unique().iter_rows())


def _group_key_exprs(frame: pl.DataFrame) -> list[pl.Expr]:
    def col(name: str, dtype: PolarsDataType, default: bool | None = None) -> pl.Expr:
        return pl.col(name) if name in frame.columns else pl.lit(default, dtype)

    day = pl.col("day") if "day" in frame.columns else pl.col("ts").dt.date()
    return [
        day.alias("_day"),
        col("provider", pl.String).alias("_provider"),
        col("model", pl.String).alias("_model"),
        col("is_batch", pl.Boolean, False).fill_null(False).alias("_batch"),
        col("service_tier", pl.String).fill_null("default").alias("_tier"),
        pl.lit(None, pl.Int32).alias("_minute"),
    ]


def _price_table(found: dict[tuple, UnitPrices | None], key_schema: pl.Schema) -> tuple[pl.DataFrame, int]:
    """One row per group: per-token prices by tier band, band thresholds, model_id, source, ref."""
    n_tiers = max((len(unit.tiers) for unit in found.values() if unit is not None), default=0)
    schema: Schema = {**key_schema, "_model_id": pl.String, "_cost_source": pl.String, "_price_ref": pl.String}
    for band in range(n_tiers + 1):
        if band:
            schema[f"_above_{band}"] = pl.Int64
        schema |= {f"_{kind}_{band}": PER_TOKEN for kind in TOKEN_KINDS}
    schema |= {f"_{kind}": PER_TOKEN for kind in AUDIO_KINDS}
    rows = [_table_row(key, unit, n_tiers) for key, unit in found.items()]
    return pl.DataFrame(rows, schema=schema, orient="row"), n_tiers


def _lookup_args(key: tuple) -> tuple[str | None, str | None, date, bool, str | None]:
    day, provider, model, is_batch, tier = key
    return provider, model, day, is_batch, tier


def _with_request_minute(keyed: pl.DataFrame, timed: list[tuple]) -> pl.DataFrame:
    """Set _minute (UTC minute of day) on rows of groups whose catalog price depends on the hour."""
    group_keys = list(GROUP_KEYS[:-1])
    flags = pl.DataFrame(timed, schema=keyed.select(group_keys).schema, orient="row").with_columns(_timed=pl.lit(True))
    minute = pl.col("ts").dt.hour().cast(pl.Int32) * 60 + pl.col("ts").dt.minute().cast(pl.Int32)
    flagged = keyed.join(flags, on=group_keys, how="left", nulls_equal=True, maintain_order="left")
    return flagged.with_columns(_minute=pl.when(pl.col("_timed")).then(minute)).drop("_timed")


def _table_row(key: tuple, unit: UnitPrices | None, n_tiers: int) -> list:
    if unit is None:
        return [*key, None, None, None] + [None] * ((n_tiers + 1) * len(TOKEN_KINDS) + n_tiers + len(AUDIO_KINDS))
    row = [*key, unit.model_id, unit.cost_source, unit.price_ref, *_per_token(unit)]
    for band in range(1, n_tiers + 1):
        if band <= len(unit.tiers):
            tier = unit.tiers[band - 1]
            row += [tier.above_input_tokens, *_per_token(tier)]
        else:
            row += [None] * (1 + len(TOKEN_KINDS))
    audio = [getattr(unit, kind) for kind in AUDIO_KINDS]
    return row + [None if p is None else (p / PER_MILLION).quantize(_QUANTUM) for p in audio]


def _per_token(prices: TokenPrices) -> list[Decimal]:
    return [(getattr(prices, kind) / PER_MILLION).quantize(_QUANTUM) for kind in TOKEN_KINDS]


def _band_price(kind: str, input_tokens: pl.Expr, n_tiers: int) -> pl.Expr:
    """The row's per-token price for `kind`: the highest tier its input_tokens is above, else base."""
    price = pl.col(f"_{kind}_0")
    for band in range(1, n_tiers + 1):
        above = pl.col(f"_above_{band}")
        price = pl.when(above.is_not_null() & (input_tokens > above)).then(pl.col(f"_{kind}_{band}")).otherwise(price)
    return price


def _result_exprs(frame: pl.DataFrame, prices: PricesConfig, n_tiers: int) -> list[pl.Expr]:
    tokens = {
        kind: pl.col(f"{kind}_tokens").fill_null(0) if f"{kind}_tokens" in frame.columns else pl.lit(0, pl.Int64)
        for kind in ("input", "cache_read", "cache_write", "output", "input_audio", "output_audio")
    }
    uncached = (tokens["input"] - tokens["cache_read"] - tokens["cache_write"]).clip(lower_bound=0)
    audio_in = pl.min_horizontal(tokens["input_audio"], uncached)
    audio_out = pl.min_horizontal(tokens["output_audio"], tokens["output"])
    price = {kind: _band_price(kind, tokens["input"], n_tiers) for kind in TOKEN_KINDS}
    computed = (
        (uncached - audio_in) * price["input"]
        + audio_in * pl.coalesce(pl.col("_input_audio"), price["input"])
        + tokens["cache_read"] * price["cache_read"]
        + tokens["cache_write"] * price["cache_write"]
        + (tokens["output"] - audio_out) * price["output"]
        + audio_out * pl.coalesce(pl.col("_output_audio"), price["output"])
    ).cast(MONEY)
    has_reported = "reported_cost_usd" in frame.columns
    reported = pl.col("reported_cost_usd").cast(MONEY) if has_reported else pl.lit(None, MONEY)
    provider = pl.col("provider") if "provider" in frame.columns else pl.lit(None, pl.String)
    # A reselling gateway's reported cost is its bill: it wins over any estimate of ours.
    billed = provider.is_in(sorted(BILLING_GATEWAYS)).fill_null(False) & reported.is_not_null()
    priced = pl.col("_cost_source").is_not_null() & ~billed

    if prices.reported_cost_fallback and has_reported:
        any_tokens = (tokens["input"] + tokens["output"]) > 0
        use_reported = ~priced & reported.is_not_null() & ((reported > 0) | ~any_tokens)
    else:
        use_reported = pl.lit(False)
    use_reported = use_reported | billed
    source = pl.col("source") if "source" in frame.columns else pl.lit("source")
    return [
        pl.col("_model_id").alias("model_id"),
        pl.when(priced).then(computed).when(use_reported).then(reported).alias("cost_usd"),
        pl.when(priced)
        .then(pl.col("_cost_source"))
        .when(use_reported)
        .then(pl.lit("reported"))
        .otherwise(pl.lit("unpriced"))
        .alias("cost_source"),
        pl.when(priced)
        .then(pl.col("_price_ref"))
        .when(billed)
        .then(pl.concat_str(pl.lit("billed:"), provider))
        .when(use_reported)
        .then(pl.concat_str(pl.lit("reported:"), source.fill_null("unknown")))
        .alias("price_ref"),
    ]
