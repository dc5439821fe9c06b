"""Context the day-over-day checks need from the lake: the row count of the day before."""

from datetime import date, timedelta
from pathlib import Path

import polars as pl


def previous_day_rows(partition: Path, day: date) -> int | None:
    """Row count of the day before, from the sibling partition folder (None on the first day)."""
    previous = partition.parent / f"day={day - timedelta(days=1)}"
    files = sorted(previous.glob("*.parquet"))
    return pl.scan_parquet(files).select(pl.len()).collect().item() if files else None
