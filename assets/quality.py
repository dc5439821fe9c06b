"""The `data_quality` table as an asset: every check outcome of a day, published from what the checks recorded."""

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from assets.finance import reconciliation_daily
from assets.lake import billing_lines, provider_usage, usage_events
from assets.marts import billing_daily, usage_daily
from assets.metadata import markdown_table
from assets.partitions import daily_asset, step_days
from assets.resources import TokenomicsHome
from tokenomics.home import Home
from tokenomics.lake import read_partition, replace_partition
from tokenomics.quality.outcomes import DATA_QUALITY

RECORDED = "data_quality_outcomes"
"""lake/data_quality_outcomes/<table>/day=D/: what a table's checks concluded on day D (assets/checks.py)."""


def recorded_day(home: Home, table: str, day: date | str) -> Path:
    """Where the checks of `table` record their outcomes for `day`; replaced whole by each check run."""
    return home.table_day(f"{RECORDED}/{table}", day)


def _newest(folder: Path) -> float:
    return max((f.stat().st_mtime for f in folder.glob("*.parquet")), default=0.0)


def unpublished_days(home: Home) -> list[date]:
    """Days whose recorded outcomes are newer than their data_quality partition.

    A failed blocking check stops every asset downstream of its table in that run, this one included;
    its outcomes (the rows that say why the day is missing) are published by the next run instead.
    """
    newest: dict[date, float] = {}
    for folder in (home.lake / RECORDED).glob("*/day=*"):
        day = date.fromisoformat(folder.name.removeprefix("day="))
        newest[day] = max(newest.get(day, 0.0), _newest(folder))
    return sorted(d for d, t in newest.items() if t > _newest(home.mart_day("data_quality", d)))


@daily_asset(
    deps=[usage_events, billing_lines, provider_usage, usage_daily, billing_daily, reconciliation_daily],
    serialized=True,  # also publishes earlier days a blocking check stopped
    group_name="quality",
    kinds={"polars"},
    description=(
        "Data health over time: one row per day, table and check (the asset checks of usage_events, "
        "billing_lines, provider_usage, usage_daily, billing_daily and reconciliation_daily), with "
        "severity, passed, observed value, unexpected count and share, a sample and the message. Each "
        "check records its outcomes; this asset publishes the day's. ERROR checks block the publish, "
        "WARN checks do not; a day a blocking check stopped is published by the next run, so its failures "
        "are in the table."
    ),
)
def data_quality(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home = tokenomics.home
    days = step_days(context)
    late = sorted(set(unpublished_days(home)) - set(days))
    if late:
        context.log.info(f"also publishing {len(late)} other day(s) whose checks ran without a publish: {late[:5]}")
    rows, failures = 0, []
    for day in sorted(set(days) | set(late)):
        outcomes = [read_partition(f) for f in sorted((home.lake / RECORDED).glob(f"*/day={day}"))]
        frame = pl.concat(outcomes, how="vertical_relaxed") if outcomes else pl.DataFrame(schema=DATA_QUALITY)
        rows += replace_partition(home.mart_day("data_quality", day), frame, schema=DATA_QUALITY)
        failures.append(frame.filter(~pl.col("passed")).select("day", "table", "check", "severity", "message"))
    failed = pl.concat(failures, how="vertical_relaxed")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "failed_checks": failed.height,
            "late_days": dg.MetadataValue.json([str(d) for d in late]),
            "failed_preview": markdown_table(failed),
        }
    )
