"""The nightly schedule's tick, executed: yesterday in full, then the restated billing days, in order."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.definitions import defs
from pipelines.runner import run_days
from tokenomics.deliveries import latest_deliveries
from tokenomics.generator import generate
from tokenomics.home import Home
from tokenomics.ingest import landing_files

START, DAYS = date(2026, 3, 2), 6
YESTERDAY = START + timedelta(days=DAYS - 1)  # 2026-03-07, the tick runs on 03-08 at 02:00 UTC
RESTATED = YESTERDAY - timedelta(days=3)  # D-3: the oldest day the tick restates
RESTATEMENT = Decimal("1.50")  # what the provider adds to one line of RESTATED's bill


def _warehouse(home: Home, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def _money(home: Home) -> dict[str, Decimal]:
    """The numbers a restatement of RESTATED must move, read where users read them."""
    billed = pl.read_parquet(home.table_day("billing_lines", RESTATED) / "*.parquet")
    allocation = pl.read_parquet(home.mart_day("allocation_daily", RESTATED) / "*.parquet")
    day = f"DATE '{RESTATED}'"
    return {
        "billing_lines": billed.filter(pl.col("provider") == "openai")["effective_cost"].sum(),
        "billing_daily": _warehouse(
            home, f"SELECT sum(effective_cost_usd) FROM billing_daily WHERE day = {day} AND provider = 'openai'"
        ).item(),
        "reconciliation_daily": _warehouse(
            home, f"SELECT sum(billed_cost_usd) FROM reconciliation_daily WHERE day = {day} AND provider = 'openai'"
        ).item(),
        "allocation_daily": allocation.filter(pl.col("provider") == "openai")["total_cost_usd"].sum(),
        "chargeback_monthly": _warehouse(
            home, "SELECT sum(total_cost_usd) FROM chargeback_monthly WHERE month = DATE '2026-03-01'"
        ).item(),
    }


def _usage_files(home: Home) -> dict[str, tuple[int, bytes]]:
    return {
        str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted((home.lake / "usage_events").rglob("*.parquet"))
    }


def _restate_openai_bill(home: Home) -> None:
    """A new delivery of RESTATED's OpenAI costs, delivered after yesterday: one line costs more."""
    folder = home.landing_day("openai_costs", RESTATED)
    (current,), _ = latest_deliveries(landing_files(home, "openai_costs", RESTATED))
    page = json.loads(current.read_text())
    line = page["data"][0]["results"][0]
    line["amount"]["value"] = str(Decimal(line["amount"]["value"]) + RESTATEMENT)
    export = current.name.split("_delivered-")[0]
    (folder / f"{export}_delivered-{YESTERDAY}T18-30-00Z.json").write_text(json.dumps(page))


@pytest.fixture
def previous_nights(tmp_path):
    """Every day before yesterday already materialized, as earlier nights left them."""
    home = Home(tmp_path)
    generate(home.root, START, DAYS, 150, 21)
    result = run_days(home, START, YESTERDAY - timedelta(days=1), instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return home


@pytest.mark.slow
def test_restatement_tick_rebuilds_billing_downstream_and_leaves_usage_alone(previous_nights):
    home = previous_nights
    _restate_openai_bill(home)
    usage_before = _usage_files(home)

    schedule = defs.resolve_schedule_def("nightly")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 8, 2, tzinfo=timezone.utc), repository_def=defs.get_repository_def()
    )
    requests = list(schedule.evaluate_tick(context).run_requests)
    assert [r.partition_key for r in requests] == [str(YESTERDAY - timedelta(days=n)) for n in range(4)]

    job = defs.resolve_job_def(schedule.job_name)
    instance = dg.DagsterInstance.ephemeral()
    money = []
    for request in requests:  # in the order the schedule yields them, as the daemon submits them
        result = job.execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            asset_selection=request.asset_selection,
            tags=request.tags,
            run_config={"resources": {"tokenomics": {"config": {"root": str(home.root)}}}},
        )
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        if request.asset_selection is None:
            assert {"usage_events", "billing_lines", "warehouse"} <= materialized
        else:
            assert materialized == {k.to_user_string() for k in request.asset_selection}
            assert "usage_events" not in materialized and "billing_lines" in materialized
            checked = {e.asset_key.to_user_string() for e in result.get_asset_check_evaluations()}
            assert {"billing_lines", "provider_usage"} <= checked  # the blocking checks ran too
        money.append(_money(home))

    after_yesterday, after_tick = money[0], money[-1]
    # yesterday's run alone does not pick up the restated bill of D-3; the D-3 restatement run does
    assert after_yesterday == money[1] == money[2]
    for name, value in after_tick.items():
        assert value - after_yesterday[name] == RESTATEMENT, (name, after_yesterday[name], value)
    published = _warehouse(home, "SELECT max(day) AS d FROM usage_daily").item()
    assert published == YESTERDAY
    assert _usage_files(home) == {
        **usage_before,
        **{k: v for k, v in _usage_files(home).items() if f"day={YESTERDAY}" in k},
    }

    # the CLI/runner path for the same slice: a selected-assets run (no resource conflict), idempotent
    again = run_days(
        home,
        RESTATED,
        RESTATED,
        assets=[k.to_user_string() for k in requests[-1].asset_selection],
        instance=instance,
    )
    assert again.success
    assert _money(home) == after_tick
