"""Reading a trailing window of a day-partitioned mart: what detectors and forecasts need."""

import calendar
from datetime import date, timedelta

import polars as pl

from tokenomics.home import Home


def read_mart_window(home: Home, mart: str, first: date, last: date, lookback_days: int = 0) -> pl.DataFrame:
    """All rows of `mart` for days in [first - lookback_days, last] that exist in the lake."""
    start = first - timedelta(days=lookback_days)
    files = []
    for offset in range((last - start).days + 1):
        folder = home.mart_day(mart, start + timedelta(days=offset))
        files += sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return pl.DataFrame()
    return pl.read_parquet(files, hive_partitioning=False)


def read_mart_month(home: Home, mart: str, month: str) -> pl.DataFrame:
    """All rows of `mart` for the days of `month` (YYYY-MM) that exist in the lake."""
    first = date.fromisoformat(f"{month}-01")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return read_mart_window(home, mart, first, last)
