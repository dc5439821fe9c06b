"""Freshness: a night that never ran shows in the UI (each published table turns FAIL) and alerts."""

import os
from datetime import datetime, timedelta, timezone

import dagster as dg

from assets.resources import TokenomicsHome
from tokenomics.alerts import stale_tables_alert

PUBLISHED = (
    "warehouse",
    "usage_daily",
    "billing_daily",
    "reconciliation_daily",
    "chargeback_monthly",
    "budget_status",
    "anomalies",
    "incidents",
    "alerts",
    "data_quality",
)
"""The tables BI tools read: each must be rebuilt every night."""

DEADLINE_CRON_ENV, WINDOW_ENV = "TOKENOMICS_FRESHNESS_DEADLINE_CRON", "TOKENOMICS_FRESHNESS_WINDOW_MINUTES"

NIGHTLY_FRESHNESS = dg.FreshnessPolicy.cron(
    deadline_cron=os.environ.get(DEADLINE_CRON_ENV, "0 6 * * *"),
    lower_bound_delta=timedelta(minutes=int(os.environ.get(WINDOW_ENV, "240"))),
    timezone="UTC",
)
"""Rebuilt between 02:00 and 06:00 UTC by default (the nightly schedule starts at 02:00); Dagster's
freshness daemon marks the table FAIL at the deadline when that night's run never happened. A team
whose nights run later moves both with the two variables."""


def with_freshness(assets):
    """The assets with the nightly freshness policy on every published table."""

    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.replace_attributes(freshness_policy=NIGHTLY_FRESHNESS) if spec.key.path[-1] in PUBLISHED else spec

    return dg.map_asset_specs(attach, assets)


def stale_tables(instance: dg.DagsterInstance) -> list[str]:
    """Published tables whose freshness state is FAIL, as the freshness daemon recorded it."""
    records = instance.get_freshness_state_records([dg.AssetKey(name) for name in PUBLISHED])
    return sorted(key.to_user_string() for key, record in records.items() if record.freshness_state.value == "FAIL")


@dg.sensor(
    name="stale_table_alerts",
    minimum_interval_seconds=600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends one alert a day to the alert channels while a published table is past its freshness deadline.",
)
def stale_table_alerts(context: dg.SensorEvaluationContext, tokenomics: TokenomicsHome):
    stale = stale_tables(context.instance)
    if not stale:
        return dg.SkipReason("every published table is fresh")
    today = datetime.now(timezone.utc).date()
    report = tokenomics.deliver_alerts([stale_tables_alert(stale, today)], today=today)
    return dg.SkipReason(f"{len(stale)} stale table(s): sent {report.sent}, failed {report.failed}")
