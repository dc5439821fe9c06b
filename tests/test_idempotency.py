"""Re-materializing a day replaces it exactly: reruns, and the same file delivered twice, converge."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml

from pipelines.runner import run_days
from tokenomics.generator import generate
from tokenomics.home import Home

DAY = date(2026, 4, 7)


WHEN_CHECKED = {"data_quality": "checked_at"}
"""The one column a rerun may change: when the check ran (every result itself must be equal)."""


def _published(home: Home) -> dict[str, pl.DataFrame]:
    """Every table of the published warehouse, in a stable order."""
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {
            t: con.sql(
                f'SELECT * {f"EXCLUDE ({WHEN_CHECKED[t]})" if t in WHEN_CHECKED else ""} FROM "{t}" ORDER BY ALL'
            ).pl()
            for t in tables
        }
    finally:
        con.close()


def _snapshot(home: Home) -> dict[str, pl.DataFrame]:
    published = _published(home)
    events = pl.read_parquet(home.table_day("usage_events", DAY) / "*.parquet")
    published["usage_events"] = events.drop("source_file").sort("source", "event_id")
    return published


def _alert_files(home: Home) -> dict[str, str]:
    return {str(p.relative_to(home.root)): p.read_text() for p in sorted(home.alerts.rglob("*.jsonl"))}


def _run(home: Home):
    result = run_days(home, DAY, DAY, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return result


@pytest.fixture
def one_day(tmp_path):
    home = Home(tmp_path)
    generate(home.root, DAY, 1, 300, 5)
    return home


def _page_on_this_day(home: Home) -> None:
    """Alerts that really go out: a budget the day overruns, and no backfill silence for an old day."""
    config = yaml.safe_load(home.config_file.read_text())
    config["alerts"]["recency_days"] = (date.today() - DAY).days + 30
    config["budgets"] = [{"team": "search", "monthly_usd": "0.01"}]
    home.config_file.write_text(yaml.safe_dump(config))


def test_materializing_a_day_twice_gives_identical_tables(one_day):
    _page_on_this_day(one_day)
    _run(one_day)
    first, first_alerts = _snapshot(one_day), _alert_files(one_day)
    _run(one_day)
    second, second_alerts = _snapshot(one_day), _alert_files(one_day)
    assert set(first) == set(second)
    assert {
        "usage_daily",
        "billing_daily",
        "reconciliation_daily",
        "chargeback_monthly",
        "budget_status",
        "anomalies",
        "alerts",
        "data_quality",
        "savings_opportunities",
        "self_host_tco",
    } <= set(first)  # DESIGN section 5
    assert all(first[t].height > 0 for t in ("usage_daily", "billing_daily", "reconciliation_daily", "data_quality"))
    for table in first:
        assert first[table].equals(second[table]), (
            table,
            [c for c in first[table].columns if not first[table][c].equals(second[table][c])],
        )
    assert sum(len(text.splitlines()) for text in first_alerts.values()) > 0  # alerts really went out
    assert first_alerts == second_alerts  # and the JSONL channel got none of them twice
    leftovers = [p for p in one_day.lake.rglob(".*") if p.name.startswith((".tmp", ".old"))]
    assert leftovers == []


def test_same_file_delivered_twice_changes_nothing(one_day):
    _run(one_day)
    before = _snapshot(one_day)
    folder = one_day.landing_day("litellm", DAY)
    original = sorted(folder.glob("*.jsonl"))[0]
    shutil.copy(original, folder / f"zz-redelivered-{original.name}")
    result = _run(one_day)
    after = _snapshot(one_day)
    for table in before:
        assert before[table].equals(after[table]), table
    mat = result.asset_materializations_for_node("usage_events")[0]
    assert mat.metadata["deduplicated_rows"].value > 0


def test_rerunning_a_past_day_with_a_new_override_reprices_it(one_day):
    _run(one_day)
    before = pl.read_parquet(one_day.table_day("usage_events", DAY) / "*.parquet").filter(
        pl.col("model") == "gpt-4o-mini"
    )
    assert before.height > 0 and set(before["cost_source"]) == {"catalog"}
    config = one_day.config_file.read_text()
    one_day.config_file.write_text(
        config
        + "prices:\n  overrides:\n    - name: negotiated-mini\n      provider: openai\n      model: gpt-4o-mini\n"
        + f"      effective_from: {DAY}\n      input_per_mtok: '0.10'\n      output_per_mtok: '0.40'\n"
        + "      cache_read_per_mtok: '0.05'\n"
    )
    _run(one_day)
    after = pl.read_parquet(one_day.table_day("usage_events", DAY) / "*.parquet").filter(
        pl.col("model") == "gpt-4o-mini"
    )
    assert set(after["cost_source"]) == {"override"}
    assert after["price_ref"].str.contains("negotiated-mini").all()
    for row in after.iter_rows(named=True):
        uncached = row["input_tokens"] - row["cache_read_tokens"] - row["cache_write_tokens"]
        want = (
            uncached * Decimal("0.10")
            + row["cache_read_tokens"] * Decimal("0.05")
            + row["cache_write_tokens"] * Decimal("0.10")
            + row["output_tokens"] * Decimal("0.40")
        ) / Decimal(1_000_000)
        if row["is_batch"]:
            want /= 2
        assert abs(row["cost_usd"] - want) < Decimal("1e-9"), row
