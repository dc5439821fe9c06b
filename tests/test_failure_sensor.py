"""A failed pipeline run is delivered to the configured alert channels, once per run."""

import json
import shutil
from datetime import date

import dagster as dg

from pipelines.runner import run_days
from pipelines.sensors import pipeline_failure_alerts
from tokenomics.home import Home

DAY = date(2026, 4, 7)


def test_failed_run_is_sent_to_the_file_channel_once(tmp_path, fixtures, monkeypatch):
    home = Home(tmp_path)
    monkeypatch.setenv("TOKENOMICS_HOME", str(home.root))
    home.config_file.write_text(
        "alerts:\n  channels:\n    - {name: ops-file, kind: file, path: ops.jsonl}\n"
    )
    folder = home.landing_day("litellm", DAY)
    folder.mkdir(parents=True)
    shutil.copy(fixtures / "pipeline" / "undecodable.jsonl", folder / "undecodable.jsonl")
    instance = dg.DagsterInstance.ephemeral()
    result = run_days(home, DAY, DAY, instance=instance)
    assert not result.success
    records = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    failure = records[0].dagster_event
    run = instance.get_run_by_id(result.run_id)
    for _ in range(2):  # the daemon may evaluate the same failure twice: it is sent once
        context = dg.build_run_status_sensor_context(
            sensor_name="pipeline_failure_alerts", dagster_event=failure, dagster_instance=instance, dagster_run=run
        ).for_run_failure()
        pipeline_failure_alerts(context)
    lines = (home.alerts / "ops.jsonl").read_text().splitlines()
    assert len(lines) == 1
    sent = json.loads(lines[0])
    assert sent["key"] == f"pipeline:{result.run_id}"
    assert sent["severity"] == "critical"
