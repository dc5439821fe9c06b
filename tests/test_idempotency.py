"""Re-materializing a day replaces it exactly: reruns, and the same file delivered twice, converge."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.runner import run_days
from tokenomics.generator import generate
from tokenomics.home import Home

DAY = date(2026, 4, 7)


def _snapshot(home: Home) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        published = {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").pl() for t in ("usage_daily",)}
    finally:
        con.close()
    events = pl.read_parquet(home.table_day("usage_events", DAY) / "*.parquet")
    published["usage_events"] = events.drop("source_file").sort("source", "event_id")
    return published


def _run(home: Home):
    result = run_days(home, DAY, DAY, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return result


@pytest.fixture
def one_day(tmp_path):
    home = Home(tmp_path)
    generate(home.root, DAY, 1, 300, 5)
    return home


def test_materializing_a_day_twice_gives_identical_tables(one_day):
    _run(one_day)
    first = _snapshot(one_day)
    _run(one_day)
    second = _snapshot(one_day)
    for table in first:
        assert first[table].equals(second[table]), table
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
