"""Blocking checks keep the previous warehouse; WARN checks are recorded and let the day publish."""

import hashlib
import shutil
from datetime import date

import dagster as dg
import duckdb
import pytest

from pipelines.runner import run_days
from tokenomics.home import Home

GOOD, BLOCKED, WARNED = date(2026, 4, 7), date(2026, 4, 8), date(2026, 4, 9)


def _deliver(home: Home, fixtures, source: str, day: date, name: str):
    folder = home.landing_day(source, day)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixtures / "pipeline" / name, folder / name)


def _run(home: Home, day: date):
    return run_days(home, day, day, instance=dg.DagsterInstance.ephemeral())


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _published_days(home: Home) -> set:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        days = {r[0] for r in con.execute("SELECT DISTINCT day FROM usage_daily").fetchall()}
        return days | {r[0] for r in con.execute("SELECT DISTINCT day FROM billing_daily").fetchall()}
    finally:
        con.close()


@pytest.fixture
def published_yesterday(tmp_path, fixtures):
    home = Home(tmp_path)
    _deliver(home, fixtures, "litellm", GOOD, "bad_rows_spend_logs.jsonl")
    _deliver(home, fixtures, "openai_costs", GOOD, "costs_good.json")
    assert _run(home, GOOD).success
    return home


def _check(result, name: str):
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)


def test_blocking_failure_leaves_the_published_warehouse_untouched(published_yesterday, fixtures):
    home = published_yesterday
    before = _digest(home.warehouse)
    _deliver(home, fixtures, "openai_costs", BLOCKED, "costs_unknown_currency.json")
    result = _run(home, BLOCKED)
    assert not result.success
    check = _check(result, "billing_currency_known")
    assert not check.passed and "ZZZ" in check.description
    assert _digest(home.warehouse) == before
    assert _published_days(home) == {GOOD}


def test_warn_failure_is_recorded_and_the_day_still_publishes(published_yesterday, fixtures):
    home = published_yesterday
    _deliver(home, fixtures, "litellm", WARNED, "unattributed_spend_logs.jsonl")
    result = _run(home, WARNED)
    assert result.success
    check = _check(result, "unattributed_spend_share")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert WARNED in _published_days(home)
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT severity, passed FROM data_quality WHERE day = ? AND \"check\" = 'unattributed_spend_share'",
            [WARNED],
        ).fetchall()
    finally:
        con.close()
    assert rows and all(r == ("WARN", False) for r in rows)


def test_a_blocked_days_failures_reach_data_quality_with_the_next_run(published_yesterday, fixtures):
    home = published_yesterday
    _deliver(home, fixtures, "openai_costs", BLOCKED, "costs_unknown_currency.json")
    assert not _run(home, BLOCKED).success  # data_quality is downstream of the failed check: not run
    assert _run(home, GOOD).success
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT severity, passed FROM data_quality WHERE day = ? AND \"check\" = 'billing_currency_known'",
            [BLOCKED],
        ).fetchall()
    finally:
        con.close()
    assert rows == [("ERROR", False)]
