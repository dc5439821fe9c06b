"""Sensors: a failed pipeline run is sent to the same alert channels as anomalies, once per run."""

from datetime import datetime, timezone

import dagster as dg

from assets.resources import TokenomicsHome
from tokenomics.alerts import pipeline_failure_alert

MAX_REASONS = 3
RANGE_START_TAG, RANGE_END_TAG = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _root_cause(error) -> str:
    """The first error in the chain that is not Dagster's wrapper: the reader's own message."""
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    first = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
    prefix = f"{error.cls_name}: "
    return first.split(prefix, 1)[1] if prefix in first else first


def failure_reasons(context: dg.RunFailureSensorContext) -> list[str]:
    """Why the run failed, in words a user can act on: the failed blocking checks' own messages,
    then each failed step's root error (a reader's names the file and the line)."""
    run_id = context.dagster_run.run_id
    checks = [
        record.dagster_event.event_specific_data
        for record in context.instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
    reasons = [
        c.description or f"{c.asset_key.to_user_string()}.{c.check_name} failed"
        for c in checks
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        if error is not None and error.cls_name != "DagsterAssetCheckFailedError":
            reasons.append(f"{event.step_key}: {_root_cause(error)}")
    return reasons or [context.failure_event.message or "run failed"]


@dg.run_failure_sensor(
    name="pipeline_failure_alerts",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends every failed run (a blocking data-quality check included) to the alert channels.",
)
def pipeline_failure_alerts(context: dg.RunFailureSensorContext, tokenomics: TokenomicsHome):
    """Channels come from the same resource and tokenomics.yaml (TOKENOMICS_CONFIG included) as the assets."""
    run = context.dagster_run
    reasons = failure_reasons(context)
    more = f" (+{len(reasons) - MAX_REASONS} more)" if len(reasons) > MAX_REASONS else ""
    start, end = run.tags.get(RANGE_START_TAG), run.tags.get(RANGE_END_TAG)
    days = run.tags.get("dagster/partition") or (start if start == end else f"{start}..{end}")
    message = f"{days + ': ' if days else ''}{'; '.join(reasons[:MAX_REASONS])}{more}"
    alert = pipeline_failure_alert(run.run_id, run.job_name, datetime.now(timezone.utc).date(), message)
    report = tokenomics.deliver_alerts([alert])
    context.log.info(f"pipeline failure alert {alert.key}: sent {report.sent}, failed {report.failed}")
