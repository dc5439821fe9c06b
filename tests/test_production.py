"""Run it for real: a Dagster instance in PostgreSQL, the UI and daemon, days as concurrent runs.

A user's path, end to end and with real servers on loopback: `tokenomics generate` makes a home
(no TOKENOMICS_HMAC_KEY anywhere); the commands of the README's production section, read from the
README itself, put the instance in a throwaway PostgreSQL server with deploy/dagster.yaml and start the
daemon and the webserver; a backfill of every asset over four days is launched over GraphQL exactly as
the UI launches it. In per-day mode the queued run coordinator runs several days at once; the published
tables must equal those of one single-run backfill of the same files. Then the runs, event logs, asset
checks and schedules are read back from PostgreSQL itself, and a table left alone turns FAIL and alerts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import httpx
import pytest

from assets.resources import TokenomicsHome
from pipelines.definitions import defs
from pipelines.freshness import stale_table_alerts
from pipelines.runner import run_days
from tests.published import assert_same_tables, published_tables
from tests.readme_blocks import readme_block
from tests.servers import free_port, stop_process, wait_until_serving
from tokenomics.home import Home
from tokenomics.privacy import HMAC_KEY_ENV, KEY_FILE_NAME

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
START, DAYS = date(2026, 3, 16), 4
DAY_KEYS = [str(START + timedelta(days=i)) for i in range(DAYS)]

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status startTime endTime tags { key value } } }
  }
}"""
ASSETS = "{ assetNodes { assetKey { path } } }"


def user_environment(**extra: str) -> dict[str, str]:
    """The environment a user's shell has: none of the suite's own settings (no HMAC key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKENOMICS_", "DAGSTER_", "PYTEST_"))}
    return env | {"PATH": f"{BIN}:{env.get('PATH', '')}"} | extra


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60).json()
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


@pytest.fixture
def dagster_ui(tmp_path, postgres):
    """The README's production commands (daemon + webserver) on a PostgreSQL instance, over a home made by the CLI."""
    home = Home(tmp_path / "home")
    subprocess.run(
        [
            str(BIN / "tokenomics"),
            "generate",
            "--home",
            str(home.root),
            "--start",
            str(START),
            "--days",
            str(DAYS),
            "--events-per-day",
            "300",
            "--seed",
            "31",
        ],
        env=user_environment(),
        check=True,
        capture_output=True,
    )
    dagster_home = tmp_path / "dagster_home"
    env = user_environment(
        DAGSTER_HOME=str(dagster_home),
        TOKENOMICS_HOME=str(home.root),
        **postgres.dagster_env(postgres.create_database_named(f"dagster_{tmp_path.name[-12:].replace('-', '_')}")),
        TOKENOMICS_LEDGER_URL=postgres.create_database(f"ledger_{tmp_path.name[-12:].replace('-', '_')}"),
        TOKENOMICS_BACKFILL="per_day",
        TOKENOMICS_FRESHNESS_DEADLINE_CRON="* * * * *",
        TOKENOMICS_FRESHNESS_WINDOW_MINUTES="1",
        FRESHNESS_DAEMON_INTERVAL_SECONDS="5",
    )
    port = free_port()
    env["DAGSTER_PORT"] = str(port)
    log = open(tmp_path / "dagster.log", "wb")
    servers = []
    for line in readme_block("tests/test_production.py (start)"):  # README's production commands, verbatim
        if line.endswith("&"):
            servers.append(
                subprocess.Popen(
                    ["bash", "-c", f"exec {line.removesuffix('&').strip()}"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        else:
            done = subprocess.run(["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True)
            assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
    assert len(servers) == 2, "the README starts the daemon and the webserver"
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, servers, tmp_path / "dagster.log")
        yield url, home, env
    finally:
        for proc in servers:
            stop_process(proc, group=True)
        log.close()


def _wait_for_backfill(url: str, backfill_id: str, timeout: float) -> tuple[str, list[dict]]:
    deadline = time.monotonic() + timeout
    while True:
        data = graphql(url, STATUS, {"id": backfill_id})
        status = data["partitionBackfillOrError"]["status"]
        runs = data["runsOrError"]["results"]
        if status in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
            return status, runs
        assert time.monotonic() < deadline, (
            f"backfill still {status} after {timeout:.0f}s: {[r['status'] for r in runs]}"
        )
        time.sleep(3)


def _wait_for_freshness(instance: dg.DagsterInstance, state: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        records = instance.get_freshness_state_records([dg.AssetKey("warehouse")])
        found = records.get(dg.AssetKey("warehouse"))
        if found is not None and found.freshness_state.value == state:
            return
        assert time.monotonic() < deadline, f"warehouse freshness is {found and found.freshness_state}, not {state}"
        time.sleep(2)


def without_stale_alerts(tables: dict) -> dict:
    """The stale-table alert depends on the wall clock (it was raised before the backfill), not the data."""
    alerts = tables["alerts"]
    return tables | {"alerts": alerts.filter(~alerts["alert_key"].str.starts_with("freshness:"))}


def _overlapping(runs: list[dict]) -> int:
    """The most runs that were in progress at the same moment."""
    edges = sorted([(r["startTime"], 1) for r in runs] + [(r["endTime"], -1) for r in runs])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


@pytest.mark.slow
def test_ui_backfill_on_a_postgres_instance_runs_days_in_parallel_and_matches_one_run(
    dagster_ui, tmp_path, postgres, monkeypatch
):
    url, home, env = dagster_ui
    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        monkeypatch.setenv(name, env[name])
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])

    assert instance.get_freshness_state_records([dg.AssetKey("warehouse")]).get(dg.AssetKey("warehouse")) is None or (
        instance.get_freshness_state_records([dg.AssetKey("warehouse")])[dg.AssetKey("warehouse")].freshness_state.value
        in ("UNKNOWN", "NOT_APPLICABLE")
    ), "never published: no verdict yet"

    keys = sorted({tuple(n["assetKey"]["path"]) for n in graphql(url, ASSETS)["assetNodes"]})
    params = {"partitionNames": DAY_KEYS, "assetSelection": [{"path": list(k)} for k in keys], "fromFailure": False}
    launched = graphql(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    status, runs = _wait_for_backfill(url, launched["backfillId"], timeout=900)

    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, [r["status"] for r in runs])
    assert runs and all(r["status"] == "SUCCESS" for r in runs), [r["status"] for r in runs]
    days_of_runs = sorted(
        t["value"]
        for r in runs
        for t in r["tags"]
        if t["key"] in ("dagster/partition", "dagster/asset_partition_range_start")
    )
    assert days_of_runs == DAY_KEYS, "per-day mode: one run per day"
    assert _overlapping(runs) >= 2, "days ran at the same time through the queued run coordinator"
    assert (home.root / KEY_FILE_NAME).exists(), "with no key in the environment the home's key file is used"

    # The same files through one single-run backfill, with the key the runs used, publish the same tables.
    reference = Home(tmp_path / "reference")
    shutil.copytree(home.landing, reference.landing)
    shutil.copy(home.config_file, reference.config_file)
    monkeypatch.setenv(HMAC_KEY_ENV, (home.root / KEY_FILE_NAME).read_text().strip())
    result = run_days(reference, START, START + timedelta(days=DAYS - 1), instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert_same_tables(published_tables(reference.warehouse), without_stale_alerts(published_tables(home.warehouse)))

    # `tokenomics run` with DAGSTER_HOME set records its run in the same PostgreSQL instance (README, step 4).
    for line in readme_block("tests/test_production.py (shell)"):
        cli = subprocess.run(
            ["bash", "-c", line],
            env=env | {"TOKENOMICS_BACKFILL": "single_run"},
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert cli.returncode == 0, (line, cli.stderr[-2000:])

    # Read back from the PostgreSQL server itself.
    import psycopg

    with psycopg.connect(postgres.url_of(env["DAGSTER_PG_DB"])) as con:
        statuses = dict(con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        assert statuses.get("SUCCESS", 0) == len(runs) + 1 and set(statuses) == {"SUCCESS"}, statuses  # + the CLI run
        materialized = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT asset_key FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
            ).fetchall()
        }
        assert {'["usage_events"]', '["warehouse"]', '["anomalies"]'} <= materialized
        checks = con.execute("SELECT count(*) FROM asset_check_executions").fetchone()[0]
        assert checks >= DAYS * len(defs.resolve_asset_graph().asset_check_keys) // 2
        states = con.execute("SELECT instigator_type, instigator_body FROM instigators").fetchall()
        assert any(kind == "SCHEDULE" and '"nightly"' in body for kind, body in states), (
            "the daemon keeps the schedule's state"
        )
        assert any(kind == "SENSOR" and '"pipeline_failure_alerts"' in body for kind, body in states)
    # The alert ledger of every run pod is the PostgreSQL table, none in the home; it is the published table.
    assert not (home.alerts / "ledger.sqlite").exists()
    with psycopg.connect(env["TOKENOMICS_LEDGER_URL"]) as con:
        ledger_rows = con.execute("SELECT alert_key, channel, status FROM tokenomics_alert_deliveries").fetchall()
    published = published_tables(home.warehouse)["alerts"]
    assert ledger_rows and sorted(ledger_rows) == sorted(published.select("alert_key", "channel", "status").rows())
    monkeypatch.setenv("TOKENOMICS_LEDGER_URL", env["TOKENOMICS_LEDGER_URL"])  # the sensors use it too
    # Freshness: the deadline here is every minute with a one-minute window, so a table left alone turns
    # FAIL within two minutes (in production: 06:00 UTC, four hours); the stale-table sensor alerts once.
    _wait_for_freshness(instance, "FAIL", timeout=240)
    sensor_context = dg.build_sensor_context(
        instance=instance, resources={"tokenomics": TokenomicsHome(root=str(home.root))}
    )
    stale_table_alerts(sensor_context)
    stale_table_alerts(sensor_context)
    sent = [json.loads(line) for line in (home.alerts / "alerts.jsonl").read_text().splitlines()]
    late = [a for a in sent if "Published tables are late" in json.dumps(a)]
    assert len(late) == 1, "one alert a day, however often the sensor ticks"
    assert "warehouse" in json.dumps(late[0])
