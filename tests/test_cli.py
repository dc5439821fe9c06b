"""The `tokenomics` command: explains itself, answers mistakes in one line, honours its contracts."""

from datetime import date, timedelta

import polars as pl
from click.testing import CliRunner

from pipelines.cli import main

FIX = "tests/fixtures"


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_lists_every_command():
    out = _run("--help").output
    for command in ("generate", "run", "ingest", "detect", "demo", "chargeback"):
        assert command in out


def test_a_bad_date_is_one_clear_line(tmp_path):
    result = _run("generate", "--home", str(tmp_path), "--start", "31/08/2025", "--days", "1")
    assert result.exit_code != 0
    assert "not a date; use YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_source_is_one_clear_line(tmp_path):
    result = _run("ingest", f"{FIX}/pipeline/bad_rows_spend_logs.jsonl", "--source", "litelm", "--out", str(tmp_path))
    assert result.exit_code != 0
    assert "unknown source 'litelm'" in result.output and "Traceback" not in result.output


def test_ingest_auto_writes_tables_and_one_line_per_file(tmp_path):
    files = [
        f"{FIX}/pipeline/bad_rows_spend_logs.jsonl",
        f"{FIX}/openai_costs/costs_page.json",
        f"{FIX}/anthropic_usage/usage_report.json",
    ]
    result = _run("ingest", *files, "--source", "auto", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "bad_rows_spend_logs.jsonl" in result.output and "costs_page.json" in result.output
    events = pl.read_parquet(tmp_path / "out" / "usage_events.parquet")
    assert sorted(events["event_id"]) == ["good-1", "good-2"]
    assert pl.read_parquet(tmp_path / "out" / "quarantine.parquet").height == 4
    billed = pl.read_parquet(tmp_path / "out" / "billing_lines.parquet")
    assert billed.height == 8  # the costs page's eight results, the org-level line without a project too
    assert billed["source_file"].str.ends_with("costs_page.json").all()
    usage = pl.read_parquet(tmp_path / "out" / "provider_usage.parquet")
    assert sorted(usage["is_batch"]) == [False, True]  # the usage report's two results: standard and batch
    assert usage["output_tokens"].sum() == 1300


def test_ingest_exit_status_is_nonzero_only_for_an_unreadable_file(tmp_path):
    result = _run(
        "ingest",
        f"{FIX}/pipeline/undecodable.jsonl",
        f"{FIX}/pipeline/bad_rows_spend_logs.jsonl",
        "--source",
        "litellm",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 1
    assert "undecodable.jsonl" in result.output and "line 2" in result.output
    assert pl.read_parquet(tmp_path / "usage_events.parquet").height == 2  # the good file still landed


def test_detect_flags_a_spike_in_a_daily_series(tmp_path):
    start = date(2026, 1, 5)
    rows = [{"day": start + timedelta(days=i), "series": "team-a", "value": 100.0 + (i % 7)} for i in range(42)]
    rows[35]["value"] = 900.0
    pl.DataFrame(rows).write_csv(tmp_path / "series.csv")
    result = _run("detect", "--input", str(tmp_path / "series.csv"), "--out", str(tmp_path / "out.parquet"))
    assert result.exit_code == 0, result.output
    out = pl.read_parquet(tmp_path / "out.parquet")
    assert {"expected", "lower", "upper", "score", "is_anomaly", "kind"} <= set(out.columns)
    flagged = out.filter(pl.col("is_anomaly"))
    assert flagged["day"].to_list() == [start + timedelta(days=35)]
    assert flagged["kind"].to_list() == ["spike"]


def test_detect_bad_input_is_one_clear_line(tmp_path):
    (tmp_path / "bad.csv").write_text("when,what\n1,2\n")
    result = _run("detect", "--input", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "o.csv"))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "day" in result.output
