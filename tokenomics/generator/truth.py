"""What really happened: per-day usage truth (and the per-stream cells the billing exports are priced from)."""

from __future__ import annotations

from datetime import date

import polars as pl

from tokenomics.schema import TOKEN_COLUMNS

USAGE_KEYS = ("day", "team", "feature", "provider", "model", "via_gateway")


def _sums() -> list[pl.Expr]:
    return [
        pl.len().cast(pl.Int64).alias("requests"),
        (~pl.col("ok")).sum().cast(pl.Int64).alias("errors"),
        *[pl.col(c).sum().cast(pl.Int64) for c in TOKEN_COLUMNS],
    ]


def usage_rows(events: pl.DataFrame, day: date) -> pl.DataFrame:
    """truth/usage_daily rows of one day: attributed team/feature, gateway-visible or not, inclusive tokens."""
    return (
        events.rename({"truth_team": "team", "truth_feature": "feature"})
        .with_columns(day=pl.lit(day, pl.Date))
        .group_by(*USAGE_KEYS)
        .agg(_sums())
        .sort(*USAGE_KEYS)
    )


def stream_cells(events: pl.DataFrame, day: date) -> pl.DataFrame:
    """Per (day, stream, is_batch) totals: the unit the provider exports are billed from."""
    return (
        events.with_columns(day=pl.lit(day, pl.Date))
        .group_by("day", "stream", "is_batch")
        .agg(*_sums(), pl.col("ok").sum().cast(pl.Int64).alias("succeeded"))
        .sort("day", "stream", "is_batch")
    )
