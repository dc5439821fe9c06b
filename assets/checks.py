"""Data-quality asset checks: each Great Expectations expectation is its own Dagster check.

ERROR expectations are blocking: a failed day stops the marts and the publish downstream, so the
previously published warehouse stays as it was. WARN expectations are recorded and shown but do
not block. Each check records its outcomes per day (assets/quality.py), which the `data_quality`
asset publishes as the table of that name (one row per day, table, check).
"""

from datetime import date, timedelta

import dagster as dg
import polars as pl

from assets.finance import reconciliation_daily
from assets.lake import billing_lines, provider_usage, usage_events
from assets.marts import billing_daily, usage_daily
from assets.quality import recorded_day
from assets.resources import TokenomicsHome
from tokenomics.lake import read_partition, replace_partition
from tokenomics.quality import expectations_for, validate
from tokenomics.quality.ledger import previous_day_rows
from tokenomics.quality.outcomes import to_rows
from tokenomics.quality.runner import validate_parquet

SEVERITY = {"ERROR": dg.AssetCheckSeverity.ERROR, "WARN": dg.AssetCheckSeverity.WARN}


def _with_previous_days(keys) -> list[str]:
    """The checked days and the day before each (day-over-day expectations read it)."""
    days = [date.fromisoformat(k) for k in keys]
    return sorted({str(d) for d in days} | {str(d - timedelta(days=1)) for d in days})


def _expectation_checks(table: str, asset, partition_of, prepare=None):
    """One multi-asset check per table; one Dagster check spec per expectation.

    `prepare` turns the partition's rows into the frame the suite checks (e.g. a per-provider rollup).
    """
    expectations = expectations_for(table)
    specs = [
        dg.AssetCheckSpec(e.name, asset=asset, blocking=e.blocking, description=f"[{e.severity}] {e.description}")
        for e in expectations
    ]

    @dg.multi_asset_check(specs=specs, name=f"{table}_expectations", can_subset=False)
    def _checks(context: dg.AssetCheckExecutionContext, tokenomics: TokenomicsHome):
        home = tokenomics.home
        by_check: dict[str, list[tuple[str, object]]] = {e.name: [] for e in expectations}
        with tokenomics.synced(context, _with_previous_days(context.partition_keys)):
            for key in context.partition_keys:
                day = date.fromisoformat(key)
                folder = partition_of(home, day)
                files = sorted(str(f) for f in folder.glob("*.parquet")) if folder.is_dir() else []
                day_context = {"previous_day_rows": previous_day_rows(folder, day)}
                if files and prepare is None:  # streamed: memory follows the GX chunk, not the day
                    outcomes = validate_parquet(table, files, context=day_context, expectations=expectations)
                else:
                    frame = read_partition(folder)
                    outcomes = validate(
                        table, prepare(frame) if prepare else frame, context=day_context, expectations=expectations
                    )
                replace_partition(recorded_day(home, table, day), to_rows(outcomes, day))
                for outcome in outcomes:
                    by_check[outcome.name].append((key, outcome))
        for e in expectations:
            results = by_check[e.name]
            failed = [(k, o) for k, o in results if not o.passed]
            worst = failed[0][1] if failed else results[-1][1]
            yield dg.AssetCheckResult(
                asset_key=asset.key,
                check_name=e.name,
                passed=not failed,
                severity=SEVERITY[e.severity],
                description=worst.message,
                metadata={
                    "observed_value": str(worst.observed_value),
                    "unexpected_count": sum(o.unexpected_count or 0 for _, o in results),
                    "sample": dg.MetadataValue.json([str(v) for v in (worst.sample or [])][:10]),
                    "days_checked": len(results),
                    "days_failed": dg.MetadataValue.json([k for k, _ in failed]),
                    "message": worst.message,
                    **({"gx_exception": worst.exception} if worst.exception else {}),
                },
            )

    return _checks


usage_events_expectations = _expectation_checks(
    "usage_events", usage_events, lambda home, day: home.table_day("usage_events", day)
)
billing_lines_expectations = _expectation_checks(
    "billing_lines", billing_lines, lambda home, day: home.table_day("billing_lines", day)
)
provider_usage_expectations = _expectation_checks(
    "provider_usage", provider_usage, lambda home, day: home.table_day("provider_usage", day)
)
usage_daily_expectations = _expectation_checks(
    "usage_daily", usage_daily, lambda home, day: home.mart_day("usage_daily", day)
)
billing_daily_expectations = _expectation_checks(
    "billing_daily", billing_daily, lambda home, day: home.mart_day("billing_daily", day)
)


def _gateway_vs_billing(recon):
    """Per provider and day: gateway estimate beside the bill (reconciliation rows rolled up)."""
    if recon.height == 0:
        return recon
    return (
        recon.group_by("day", "provider")
        .agg(pl.col("gateway_cost_usd").sum(), pl.col("billed_cost_usd").sum())
        .sort("day", "provider")
    )


gateway_vs_billing_expectations = _expectation_checks(
    "gateway_vs_billing",
    reconciliation_daily,
    lambda home, day: home.mart_day("reconciliation_daily", day),
    prepare=_gateway_vs_billing,
)
