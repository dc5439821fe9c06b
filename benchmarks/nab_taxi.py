"""The detector on real daily data: NAB's NYC taxi demand, aggregated to daily totals (issue 10, point 8).

    python benchmarks/nab_taxi.py --nab-csv PATH/TO/NAB/data/realKnownCause/nyc_taxi.csv

NAB (github.com/numenta/NAB) is not part of this repository and is not downloaded by this script:
clone it (or copy that one file) and give its path. The file holds 30-minute taxi passenger counts
from 2014-07-01 to 2015-01-31; they are summed to 215 daily totals and scored as one series with the
shipped detector (no dollar gate: these are passengers, not dollars).

Score: a labelled window is hit when any of its days is flagged; every flagged day outside all
windows is a false day. The windows are NAB's own labels, as dates (see `NAB_WINDOWS`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# NAB labels/combined_windows.json, key "realKnownCause/nyc_taxi.csv" (commit ea702d7): the five
# windows' timestamps cut to their days. NAB's names for them: NYC marathon, Thanksgiving,
# Christmas, New Year's day, the January 2015 blizzard.
NAB_WINDOWS: tuple[tuple[str, date, date], ...] = (
    ("marathon", date(2014, 10, 30), date(2014, 11, 3)),
    ("thanksgiving", date(2014, 11, 25), date(2014, 11, 29)),
    ("christmas", date(2014, 12, 23), date(2014, 12, 27)),
    ("new year", date(2014, 12, 29), date(2015, 1, 3)),
    ("blizzard", date(2015, 1, 24), date(2015, 1, 29)),
)


def read_nyc_taxi_daily(path: Path) -> pl.DataFrame:
    """NAB's nyc_taxi.csv (timestamp, value every 30 minutes) as daily totals: day, series, value."""
    raw = pl.read_csv(path, schema={"timestamp": pl.String, "value": pl.Float64})
    return (
        raw.select(pl.col("timestamp").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.date().alias("day"), "value")
        .group_by("day")
        .agg(pl.col("value").sum())
        .with_columns(pl.lit("nyc_taxi").alias("series"))
        .select("day", "series", "value")
        .sort("day")
    )


def score_windows(detections: pl.DataFrame) -> dict:
    """Windows hit (any flagged day inside) and false days (flagged days outside every window)."""
    flagged = detections.filter(pl.col("is_anomaly"))["day"].to_list()
    hit = [name for name, a, b in NAB_WINDOWS if any(a <= d <= b for d in flagged)]
    false_days = [d for d in flagged if not any(a <= d <= b for _, a, b in NAB_WINDOWS)]
    return {"windows": len(NAB_WINDOWS), "hit": hit, "false_days": false_days, "flagged_days": flagged}


def main(argv: list[str] | None = None) -> int:
    from tokenomics.anomalies.detector import DetectorParams, detect

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nab-csv", type=Path, required=True, help="NAB data/realKnownCause/nyc_taxi.csv")
    args = ap.parse_args(argv)
    if not args.nab_csv.is_file():
        ap.error(
            f"--nab-csv {args.nab_csv}: no such file (clone github.com/numenta/NAB and point at data/realKnownCause/nyc_taxi.csv)"
        )
    daily = read_nyc_taxi_daily(args.nab_csv)
    result = score_windows(detect(daily, DetectorParams(min_abs_impact=0)))
    print(f"{daily.height} days, {daily['day'].min()} .. {daily['day'].max()}")
    print(f"windows hit: {len(result['hit'])}/{result['windows']} ({', '.join(result['hit'])})")
    missed = [name for name, _, _ in NAB_WINDOWS if name not in result["hit"]]
    print(f"windows missed: {', '.join(missed) or 'none'}")
    print(f"false days: {len(result['false_days'])} ({', '.join(str(d) for d in result['false_days'])})")
    print(f"flagged days: {', '.join(str(d) for d in result['flagged_days'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
