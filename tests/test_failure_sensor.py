"""A failed pipeline run is delivered to the configured alert channels, once per run, saying why."""

import json
import shutil
from datetime import date

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.runner import run_days
from tokenomics.home import Home

UNREADABLE, BLOCKED = date(2026, 4, 7), date(2026, 4, 8)


def _deliver(home: Home, fixtures, source: str, day: date, name: str) -> None:
    folder = home.landing_day(source, day)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixtures / "pipeline" / name, folder / name)


def _tick(instance, cursor):
    """One evaluation of the sensor as the daemon does it: definitions' resources, the stored cursor."""
    sensor = defs.resolve_sensor_def("pipeline_failure_alerts")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources)
    result = sensor.evaluate_tick(context)
    return result.cursor


@pytest.fixture
def user_env(tmp_path, monkeypatch):
    """The user's home and a tokenomics.yaml kept outside it (TOKENOMICS_CONFIG), with a file channel."""
    home = Home(tmp_path / "home")
    home.root.mkdir()
    config = tmp_path / "etc" / "tokenomics.yaml"
    config.parent.mkdir()
    config.write_text(f"alerts:\n  channels:\n    - {{name: ops-file, kind: file, path: {tmp_path / 'ops.jsonl'}}}\n")
    monkeypatch.setenv("TOKENOMICS_HOME", str(home.root))
    monkeypatch.setenv("TOKENOMICS_CONFIG", str(config))
    return home, tmp_path / "ops.jsonl"


def test_failed_runs_are_sent_once_naming_the_file_line_and_the_check(user_env, fixtures):
    home, ops = user_env
    instance = dg.DagsterInstance.ephemeral()
    start = _tick(instance, None)  # the first tick only sets the cursor, as in a fresh deployment
    assert not ops.exists()

    _deliver(home, fixtures, "litellm", UNREADABLE, "undecodable.jsonl")
    _deliver(home, fixtures, "openai_costs", BLOCKED, "costs_unknown_currency.json")
    unreadable = run_days(home, UNREADABLE, UNREADABLE, instance=instance)
    blocked = run_days(home, BLOCKED, BLOCKED, instance=instance)
    assert not unreadable.success and not blocked.success
    assert any(not e.passed for e in blocked.get_asset_check_evaluations())  # a blocking check, not a crash

    after = _tick(instance, start)
    assert after != start
    _tick(instance, start)  # the daemon re-evaluates the same failures (cursor not saved): no second send
    _tick(instance, after)

    sent = {a["key"]: a for a in map(json.loads, ops.read_text().splitlines())}
    assert len(ops.read_text().splitlines()) == 2
    assert set(sent) == {f"pipeline:{unreadable.run_id}", f"pipeline:{blocked.run_id}"}
    reader = sent[f"pipeline:{unreadable.run_id}"]
    assert reader["severity"] == "critical"
    assert "undecodable.jsonl" in reader["text"] and "line 2" in reader["text"], reader["text"]
    assert str(UNREADABLE) in reader["text"]
    check = sent[f"pipeline:{blocked.run_id}"]["text"]
    assert "billing_currency_known" in check and "ZZZ" in check, check
