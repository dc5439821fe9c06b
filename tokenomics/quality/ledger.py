"""Where validation results are kept: lake/marts/data_quality/day=D/<table>.parquet, one file per table."""

import os
import uuid
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from tokenomics.home import Home
from tokenomics.quality.outcomes import Outcome, to_rows


def write_day_outcomes(home: Home, table: str, day: date, outcomes: list[Outcome]) -> Path:
    """Replace the day's results for `table` atomically (a rerun overwrites, never appends)."""
    folder = home.mart_day("data_quality", day)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{table}.parquet"
    tmp = folder / f".{table}.{uuid.uuid4().hex[:8]}.tmp"
    to_rows(outcomes, day).write_parquet(tmp)
    os.replace(tmp, target)
    return target


def previous_day_rows(partition: Path, day: date) -> int | None:
    """Row count of the day before, from the sibling partition folder (None on the first day)."""
    previous = partition.parent / f"day={day - timedelta(days=1)}"
    files = sorted(previous.glob("*.parquet"))
    return pl.scan_parquet(files).select(pl.len()).collect().item() if files else None
