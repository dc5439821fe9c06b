"""Insight assets: token-aware anomalies per day, and the alerts they (and budgets) raise."""

from datetime import datetime, timedelta, timezone

import dagster as dg
import polars as pl

from assets.finance import budget_status
from assets.marts import usage_daily
from assets.metadata import markdown_table
from assets.partitions import Refresh, daily_asset, daily_multi_asset, step_days
from assets.resources import TokenomicsHome
from tokenomics.alerts import AlertLedger, alerts_from_incidents, deliver_with_settings, settings_from_config
from tokenomics.alerts.ledger import describe_location, ledger_location
from tokenomics.alerts.model import alerts_from_budget_status
from tokenomics.anomalies.detector import DECAY_DAYS
from tokenomics.anomalies.metrics import configured_metrics
from tokenomics.anomalies.usage_anomalies import find_usage_anomalies
from tokenomics.lake import replace_partition
from tokenomics.windows import read_mart_window

LOOKBACK_DAYS = 90
"""History the detector reads before the first partition: 4 same-weekday lags plus warm-up."""


@daily_multi_asset(
    specs=[
        dg.AssetSpec(
            "anomalies",
            deps=[usage_daily],
            kinds={"polars"},
            description=(
                "Token-aware anomalies per day: robust seasonal baselines per team, team x feature and team x "
                "model for cost, tokens, requests, input tokens per request (prompt bloat), cache-hit rate, "
                "error/retry rate and output/reasoning share. Each flagged row carries actual, expected, band, "
                "score, impact, kind, episode and incident ids and a ranked root cause. Reads the trailing "
                f"{LOOKBACK_DAYS} days of usage_daily. A lone day on a sum metric (|z| under 10) is published once "
                f"the {DECAY_DAYS} days after it show it is not the decaying echo of noise, so each run also "
                f"rewrites the {DECAY_DAYS} days before its first."
            ),
        ),
        dg.AssetSpec(
            "incidents",
            deps=[usage_daily],
            kinds={"polars"},
            description=(
                "One row per excursion of a team, the unit of alerting: the day's anomalies grouped into "
                "incidents with severity, impact, scope, ranked root cause and a one-line explanation. Found "
                "in the same detector pass as `anomalies` (one step writes both)."
            ),
        ),
    ],
    refresh=Refresh("usage_daily", days_after=LOOKBACK_DAYS),
    group_name="insights",
)
def detect_anomalies(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> tuple[dg.MaterializeResult, ...]:
    """One detector pass over the window writes both tables, so they always describe the same run."""
    home, config = tokenomics.home, tokenomics.config()
    days = step_days(context)
    window = read_mart_window(home, "usage_daily", days[0], days[-1], LOOKBACK_DAYS)
    found = (
        find_usage_anomalies(window, configured_metrics(config.anomalies.detector_kwargs())) if window.height else None
    )
    flagged = incidents = 0
    # a single day waits for the days after it (detector.DECAY_DAYS): the days just before are decided now
    present = set(window["day"].unique().to_list()) if window.height else set()
    settled = [d for d in (days[0] - timedelta(days=k) for k in range(DECAY_DAYS, 0, -1)) if d in present]
    for day in settled + days:
        rows = found.anomalies.filter(pl.col("day") == day) if found else pl.DataFrame()
        day_incidents = found.incidents.filter(pl.col("day") == day) if found else pl.DataFrame()
        replace_partition(home.mart_day("anomalies", day), rows, schema=dict(found.anomalies.schema) if found else None)
        replace_partition(
            home.mart_day("incidents", day), day_incidents, schema=dict(found.incidents.schema) if found else None
        )
        flagged += rows.height
        incidents += day_incidents.height
    last = found.incidents.filter(pl.col("day").is_in(settled + days)) if found else pl.DataFrame()
    window_days = window["day"].n_unique() if window.height else 0
    return (
        dg.MaterializeResult(
            asset_key="anomalies", metadata={"dagster/row_count": flagged, "window_days": window_days}
        ),
        dg.MaterializeResult(
            asset_key="incidents",
            metadata={
                "dagster/row_count": incidents,
                "window_days": window_days,
                "incidents_preview": markdown_table(
                    last.select("day", "team", "severity", "explanation") if last.height else last, 20
                ),
            },
        ),
    )


anomalies, incidents = dg.AssetKey("anomalies"), dg.AssetKey("incidents")


@daily_asset(
    deps=[incidents, budget_status],
    serialized=True,
    refresh=Refresh("incidents", days_after=LOOKBACK_DAYS),  # per-day mode: later days' incidents may have changed
    group_name="insights",
    kinds={"python"},
    description=(
        "Delivers the day's anomaly incidents (and budget threshold crossings) to the configured channels "
        "(Slack, webhook, email, JSONL file), once: a ledger keyed by alert and channel survives reruns "
        "and retries; failed deliveries are retried on the next run; days older than the recency window "
        "are recorded but page nobody. Publishes the ledger as the `alerts` table."
    ),
)
def alerts(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home, config = tokenomics.home, tokenomics.config()
    days = step_days(context)
    # incidents of the days before were published (decided) by this run's detector step: alert them too
    incidents = read_mart_window(home, "incidents", days[0] - timedelta(days=DECAY_DAYS), days[-1])
    pending = alerts_from_incidents(incidents) if incidents.height else []
    pending += alerts_from_budget_status(read_mart_window(home, "budget_status", days[0], days[-1]))
    home.alerts.mkdir(parents=True, exist_ok=True)
    location = ledger_location(home.alerts)
    ledger = AlertLedger(location)
    try:
        report = deliver_with_settings(
            pending, settings_from_config(config.alerts, home.alerts), ledger, today=datetime.now(timezone.utc).date()
        )
        snapshot = ledger.to_frame()
    finally:
        ledger.close()
    replace_partition(home.mart_day("alerts", "all"), snapshot)
    if report.failed:
        context.log.warning(
            f"{report.failed} alert deliveries failed; they are retried on the next run: {report.errors[:3]}"
        )
    return dg.MaterializeResult(
        metadata={
            "alerts_raised": len(pending),
            "sent": report.sent,
            "failed": report.failed,
            "skipped_backfill": report.skipped_backfill,
            "already_sent": report.already_done,
            "unrouted": report.unrouted,
            "ledger": describe_location(location),
        }
    )
