"""validate_parquet (the day read from its Parquet, chunk by chunk) decides exactly what validate decides."""

from __future__ import annotations

import pytest

from tests.test_quality import BREAK_CONTEXT, BREAKS, CLEAN, CONTEXT, _copy_row, _set, clean_usage_events
from tokenomics.quality import expectations_for, validate
from tokenomics.quality.runner import validate_parquet


@pytest.fixture(scope="module", autouse=True)
def gx_once():
    from tokenomics.quality.runner import _gx

    _gx()


def _same(frame, table, tmp_path, context, expectations=None, chunk_rows=250_000):
    path = tmp_path / "part-0.parquet"
    frame.write_parquet(path)
    whole = validate(table, frame, context=context, expectations=expectations, chunk_rows=chunk_rows)
    streamed = validate_parquet(
        table, str(tmp_path / "*.parquet"), context=context, expectations=expectations, chunk_rows=chunk_rows
    )
    for one, many in zip(whole, streamed, strict=True):
        assert (many.name, many.passed, many.unexpected_count, many.sample, many.message) == (
            one.name, one.passed, one.unexpected_count, one.sample, one.message,
        ), one.name  # fmt: skip
        if isinstance(one.observed_value, float):
            assert many.observed_value == pytest.approx(one.observed_value, rel=1e-9, abs=1e-12), one.name
        else:
            assert many.observed_value == one.observed_value, one.name
    return streamed


@pytest.mark.parametrize("table", list(CLEAN))
def test_clean_day_streams_to_the_same_outcomes(table, tmp_path):
    _same(CLEAN[table](), table, tmp_path, CONTEXT.get(table))


@pytest.mark.parametrize(("table", "name"), sorted(BREAKS), ids=[f"{t}.{n}" for t, n in sorted(BREAKS)])
def test_every_break_streams_to_the_same_failure(table, name, tmp_path):
    breaking, _, _ = BREAKS[table, name]
    expectation = next(e for e in expectations_for(table) if e.name == name)
    context = BREAK_CONTEXT.get((table, name), CONTEXT.get(table))
    try:
        broken = breaking(CLEAN[table]())
        broken.write_parquet(tmp_path / "probe.parquet")
        (tmp_path / "probe.parquet").unlink()
    except Exception:  # noqa: BLE001 - a break Parquet cannot hold (e.g. a column of mixed kinds) never reaches the lake
        pytest.skip("not representable in Parquet")
    [outcome] = _same(broken, table, tmp_path, context, expectations=[expectation])
    assert outcome.passed is False


def test_duplicates_across_chunks_and_files_are_found_in_the_first_pass(tmp_path):
    frame = _copy_row(0, 3, "source", "event_id")(_set("cost_source", 1, "unpriced")(clean_usage_events()))
    frame = _set("team", 2, "unattributed")(frame)
    outcomes = {o.name: o for o in _same(frame, "usage_events", tmp_path, {"previous_day_rows": 40}, chunk_rows=1)}
    assert outcomes["event_key_unique"].unexpected_count == 2
    frame.head(2).write_parquet(tmp_path / "a.parquet")  # the same day split over two files
    frame.slice(2).write_parquet(tmp_path / "b.parquet")
    (tmp_path / "part-0.parquet").unlink()
    split = {
        o.name: o
        for o in validate_parquet(
            "usage_events",
            [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")],
            context={"previous_day_rows": 40},
            chunk_rows=3,
        )
    }
    assert split["event_key_unique"].unexpected_count == 2
    assert split["unattributed_spend_share"].observed_value == pytest.approx(0.0001 / 0.02215)
