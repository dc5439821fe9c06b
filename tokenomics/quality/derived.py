"""Derived columns the suites validate, computed in Polars before GX sees a chunk.

A derived column turns a rule GX cannot see chunk by chunk (uniqueness across the day, a share of the
day's spend) or across columns (cache reads + writes <= input) into a plain column a single-column
expectation can check. Where a row fails, the derived value is what a reader wants to see in the
sample: the duplicated key, the unpriced model, the excess token count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from tokenomics.schema import TOKEN_COLUMNS, UNATTRIBUTED
from tokenomics.tables import grain

_F64 = pl.Float64


@dataclass(frozen=True)
class Derived:
    """A derived column: the source columns it reads and how to compute it.

    `whole_day` columns (duplicates, shares of the day) are computed once over the full frame;
    the others are row-local and computed chunk by chunk, so they never hold a full-day column.
    A whole-day column that can also stream says how in two steps: `day_pass` reads the day's Parquet
    once in bounded memory (DuckDB, spilling) for the little it needs (the duplicated keys, the day's
    total), and `chunk` computes the column of one chunk from that.
    """

    columns: tuple[str, ...]
    compute: Callable[[pl.DataFrame], pl.Series]
    whole_day: bool = False
    day_pass: Callable[[str | list[str]], Any] | None = None
    chunk: Callable[[pl.DataFrame, Any], pl.Series] | None = None


def _expr(expr: pl.Expr, *, whole_day: bool = False) -> Derived:
    columns = tuple(sorted(set(expr.meta.root_names())))
    return Derived(columns, lambda frame: frame.select(expr).to_series(), whole_day)


def _duplicated_key(*keys: str) -> Derived:
    """The key itself ('src|id') on rows whose key occurs more than once in the frame, else null.

    Global over the day, not per chunk. Sorting 64-bit hashes finds candidates in ~30 MB per million
    rows (a hash-table is_duplicated on the strings takes ~280 MB); candidates are then confirmed on
    their real values, so a hash collision can never block a day.
    """

    def compute(frame: pl.DataFrame) -> pl.Series:
        hashes = frame.select(pl.struct(keys).hash()).to_series()
        ordered = hashes.sort()
        repeated = ordered.filter(ordered == ordered.shift(1))
        result = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
        if repeated.is_empty():
            return result
        rows = hashes.is_in(repeated.implode()).arg_true()
        candidates = frame[rows].select(
            pl.struct(keys).is_duplicated().alias("dup"),
            pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator="|", ignore_nulls=True).alias("key"),
        )
        return result.scatter(rows.filter(candidates["dup"]), candidates.filter("dup")["key"])

    def day_pass(parquet: str | list[str]) -> pl.DataFrame:
        """The keys seen more than once in the day: DuckDB aggregates out of core past its memory limit."""
        columns = ", ".join(f'"{k}"' for k in keys)
        with _bounded_duckdb() as con:
            return con.sql(
                f"SELECT {columns} FROM read_parquet(?) GROUP BY ALL HAVING count(*) > 1", params=[parquet]
            ).pl()

    def chunk(frame: pl.DataFrame, repeated: pl.DataFrame) -> pl.Series:
        key = pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator="|", ignore_nulls=True)
        if repeated.is_empty():
            return pl.repeat(None, frame.height, dtype=pl.String, eager=True)
        flagged = frame.select(keys).join(
            repeated.cast(frame.select(keys).schema).with_columns(pl.lit(True).alias("_dup")),
            on=keys,
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        return flagged.select(pl.when(pl.col("_dup")).then(key)).to_series()

    return Derived(keys, compute, whole_day=True, day_pass=day_pass, chunk=chunk)


def _bounded_duckdb():
    """A DuckDB connection that spills to disk rather than grow: a day pass stays flat as the day grows."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET memory_limit = '256MB'")
    con.execute("SET preserve_insertion_order = false")
    return con


def _excess(part: pl.Expr, total: str) -> pl.Expr:
    """How far a subset count goes above the total that should include it (<= 0 when sound)."""
    return part - pl.col(total)


def _share_of_day(part: pl.Expr, total: pl.Expr) -> pl.Expr:
    """Each row's contribution to a day-level share: sums to part/total over the day, 0 when total is 0."""
    return _share_given(part, total.cast(_F64).sum())


def _share_given(part: pl.Expr, total_f: pl.Expr) -> pl.Expr:
    return pl.when(total_f > 0).then(part.cast(_F64).fill_null(0.0) / total_f).otherwise(0.0).fill_null(0.0)


def _share(part: pl.Expr, total: pl.Expr) -> Derived:
    """A share of the day: the day's total in a streaming first pass, then each chunk's rows against it."""
    whole = _expr(_share_of_day(part, total), whole_day=True)

    def day_pass(parquet: str | list[str]) -> float | None:
        return pl.scan_parquet(parquet).select(total.cast(_F64).sum()).collect(engine="streaming").item()

    def chunk(frame: pl.DataFrame, total_f: float | None) -> pl.Series:
        return frame.select(_share_given(part, pl.lit(total_f, _F64))).to_series()

    return Derived(whole.columns, whole.compute, whole_day=True, day_pass=day_pass, chunk=chunk)


def _model_where(condition: pl.Expr) -> pl.Expr:
    """The model on rows matching `condition`, else null: samples then name the models to look at."""
    return pl.when(condition.fill_null(False)).then(pl.col("model").fill_null("(no model)"))


_TOKENS_SEEN = (pl.col("input_tokens") + pl.col("output_tokens")) > 0
_COST = pl.col("cost_usd")

_EXPRS: dict[str, pl.Expr] = {
    "null_token_column": pl.coalesce([pl.when(pl.col(c).is_null()).then(pl.lit(c)) for c in TOKEN_COLUMNS]),
    "cache_excess_tokens": _excess(pl.col("cache_read_tokens") + pl.col("cache_write_tokens"), "input_tokens"),
    "reasoning_excess_tokens": _excess(pl.col("reasoning_tokens"), "output_tokens"),
    "errors_excess_requests": _excess(pl.col("errors"), "requests"),
    "unpriced_model": _model_where(pl.col("cost_source") == "unpriced"),
    "zero_cost_model": _model_where((_COST == 0) & _TOKENS_SEEN),
    # in the mart an all-unpriced group sums to 0: that is the unpriced check's business, not this one's
    "zero_cost_model_daily": _model_where((_COST == 0) & _TOKENS_SEEN & (pl.col("unpriced_requests") == 0)),
    "unknown_provider_model": _model_where(pl.col("provider") == "other"),
    "charge_period_seconds": (pl.col("charge_period_end") - pl.col("charge_period_start")).dt.total_seconds(),
    # provider-days seen on one side only are not comparable (direct traffic, export not configured)
    "gateway_over_billed": pl.when(pl.col("gateway_cost_usd").is_null() | pl.col("billed_cost_usd").is_null())
    .then(None)
    .when(pl.col("billed_cost_usd") == 0)
    .then(pl.when(pl.col("gateway_cost_usd") == 0).then(None).otherwise(float("inf")))
    .otherwise(pl.col("gateway_cost_usd").cast(_F64) / pl.col("billed_cost_usd").cast(_F64)),
}

DERIVED: dict[str, Derived] = {
    "duplicate_event_key": _duplicated_key("source", "event_id"),
    "duplicate_line_key": _duplicated_key("source", "line_id"),
    "duplicate_usage_daily_grain": _duplicated_key(*grain("usage_daily")),  # declared in tokenomics/tables.yaml
    "duplicate_billing_daily_grain": _duplicated_key(*grain("billing_daily")),
    "unattributed_spend_share": _share(pl.when(pl.col("team") == UNATTRIBUTED).then(_COST), _COST),
    "unpriced_request_share": _share(pl.col("unpriced_requests"), pl.col("requests")),
    **{name: _expr(expr) for name, expr in _EXPRS.items()},
}


def gateway_vs_billing(usage: pl.DataFrame, billing: pl.DataFrame) -> pl.DataFrame:
    """Gateway cost estimate beside billed cost per (day, provider): the frame the ratio check reads.

    `usage` is usage_events or usage_daily (day, provider, cost_usd); `billing` is billing_daily
    (day, provider, billed_cost_usd). A provider-day present on one side only keeps a null on the other.
    """
    gateway = usage.group_by("day", "provider").agg(pl.col("cost_usd").sum().alias("gateway_cost_usd"))
    billed = billing.group_by("day", "provider").agg(pl.col("billed_cost_usd").sum())
    joined = gateway.join(billed, on=["day", "provider"], how="full", coalesce=True)
    return joined.select("day", "provider", "gateway_cost_usd", "billed_cost_usd").sort("day", "provider")
