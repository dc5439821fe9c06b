"""Bad rows are quarantined with a reason and the rest of the day lands; an unreadable file fails loudly."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import polars as pl
import pytest

from pipelines.runner import run_days
from tokenomics.home import Home

DAY = date(2026, 4, 7)


def _deliver(home: Home, fixtures, name: str, source: str = "litellm"):
    folder = home.landing_day(source, DAY)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixtures / "pipeline" / name, folder / name)


@pytest.fixture
def bad_day(tmp_path, fixtures):
    home = Home(tmp_path)
    _deliver(home, fixtures, "bad_rows_spend_logs.jsonl")
    result = run_days(home, DAY, DAY, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return home, result


def test_each_bad_row_is_quarantined_with_its_reason(bad_day):
    home, _ = bad_day
    quarantine = pl.read_parquet(home.quarantine_day("usage_events", DAY) / "*.parquet")
    reasons = dict(zip(quarantine["line"].to_list(), quarantine["reason"].to_list()))
    assert reasons == {
        3: "malformed_json",
        4: "negative_tokens",
        5: "cache_exceeds_input",
        6: "missing_timestamp",
    }


def test_the_rest_of_the_day_lands_and_duplicates_are_counted(bad_day):
    home, result = bad_day
    events = pl.read_parquet(home.table_day("usage_events", DAY) / "*.parquet")
    assert sorted(events["event_id"].to_list()) == ["good-1", "good-2"]
    metadata = result.asset_materializations_for_node("usage_events")[0].metadata
    assert metadata["deduplicated_rows"].value == 1
    assert metadata["rows_read"].value == 7
    assert metadata["quarantined_rows"].value == 4


def test_undecodable_file_fails_the_partition_naming_file_and_line(tmp_path, fixtures):
    home = Home(tmp_path)
    _deliver(home, fixtures, "undecodable.jsonl")
    result = run_days(home, DAY, DAY, instance=dg.DagsterInstance.ephemeral())
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = str(failure.event_specific_data.error)
    assert "undecodable.jsonl" in text and "line 2" in text
