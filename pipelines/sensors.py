"""Sensors: a failed pipeline run is sent to the same alert channels as anomalies, once per run."""

from datetime import datetime, timezone

import dagster as dg

from tokenomics.alerts import AlertLedger, deliver_with_settings, pipeline_failure_alert, settings_from_config
from tokenomics.config import load_config
from tokenomics.home import Home


@dg.run_failure_sensor(
    name="pipeline_failure_alerts",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends every failed run (a blocking data-quality check included) to the alert channels.",
)
def pipeline_failure_alerts(context: dg.RunFailureSensorContext):
    home = Home.resolve()
    config = load_config(home.config_file)
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    alert = pipeline_failure_alert(run.run_id, run.job_name, datetime.now(timezone.utc).date(), message)
    home.alerts.mkdir(parents=True, exist_ok=True)
    report = deliver_with_settings([alert], settings_from_config(config.alerts, home.alerts), home.alerts / "ledger.sqlite")
    context.log.info(f"pipeline failure alert {alert.key}: sent {report.sent}, failed {report.failed}")
