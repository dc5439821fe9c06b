"""The CLI shows a run's progress from Dagster's own events, takes real dates and source choices, and
answers a mistake in one unwrapped line."""

from __future__ import annotations

import re
from datetime import date

import dagster as dg
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.definitions import defs
from pipelines.instance import instance_for
from tokenomics import sources
from tokenomics.connectors import PULLABLE
from tokenomics.generator import generate
from tokenomics.home import Home

DAY = date(2026, 3, 2)


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_prints_one_line_per_asset_and_day_from_the_runs_events(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # the home's own instance, read back below
    home = Home(tmp_path / "home")
    generate(home.root, DAY, 1, 15, 5)

    result = _invoke("run", "--home", str(home.root), "--start", str(DAY), "--end", str(DAY))
    assert result.exit_code == 0, result.output

    lines = result.output.splitlines()
    done = {
        m["step"]: (i, m["detail"])
        for i, line in enumerate(lines)
        if (m := re.match(r"\s+✓ (?P<step>\S+)\s+[\d.]+s\s+(?P<detail>.*)$", line))
    }
    steps = {  # asset -> the step that materializes it (a multi-asset's assets share one step's line)
        key.to_user_string(): a.node_def.name
        for a in defs.resolve_asset_graph().assets_defs
        if a.is_materializable
        for key in a.keys
    }
    assets = sorted(steps)
    for asset in assets:  # every asset of the graph has its step's line, for its one day
        assert done.get(steps[asset], (None, ""))[1] == "1 day", (asset, result.output)
    assert re.search(r"usage_events_expectations\s+[\d.]+s\s+\d+ of \d+ checks passed", result.output)
    # lines come as Dagster finishes steps: upstream before downstream
    order = [done[a][0] for a in ("landing_litellm", "usage_events", "usage_daily", "warehouse", "report")]
    assert order == sorted(order), result.output
    assert f"{len(assets)} of {len(assets)} asset-days" in result.output

    # the lines are the run's recorded events: the same steps succeeded in the home's Dagster instance
    run_id = re.search(r"\(run ([0-9a-f]{8})\)", result.output).group(1)
    instance = instance_for(home)
    (run,) = [r for r in instance.get_runs() if r.run_id.startswith(run_id)]
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS).records
    assert {r.event_log_entry.dagster_event.step_key for r in records} == set(done)


def test_a_failed_step_is_a_cross_line_and_one_error_line(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = Home(tmp_path / "home")
    folder = home.landing_day("litellm", DAY)
    folder.mkdir(parents=True)
    (folder / "spend.jsonl").write_bytes(b'{"request_id": "a"\n\xff\xfe not json\n')

    result = CliRunner().invoke(main, ["run", "--home", str(home.root)])
    assert result.exit_code == 1, result.output
    assert re.search(r"✗ usage_events\s+[\d.]+s\s+\S", result.output), result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "line 2 of spend.jsonl" in errors[0] and "usage_events" in errors[0], result.output
    assert re.search(r"not run, downstream of a failure: .*usage_daily.*warehouse", result.output), result.output


def test_a_wrong_date_is_one_line_naming_the_option(tmp_path):
    for args in (
        ["run", "--home", str(tmp_path), "--start", "2026-02-30"],
        ["generate", "--home", str(tmp_path), "--start", "31/08/2025"],
        ["pull", "openai_costs", "--day", "yesterday", "--home", str(tmp_path)],
    ):
        result = _invoke(*args)
        assert result.exit_code == 2, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith("error: Invalid value for '--") and "is not a date; use YYYY-MM-DD" in line, line
        assert "Usage:" not in result.output


def test_a_wrong_source_lists_the_choices(tmp_path):
    result = _invoke(
        "ingest", "tests/fixtures/openai_costs/costs_page.json", "--source", "litelm", "--out", str(tmp_path)
    )
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert "unknown source 'litelm'; choose one of:" in line
    assert all(name in line for name in [*sources.SOURCES, "auto"]), line

    pulled = _invoke("pull", "litelm", "--day", "2026-03-02", "--home", str(tmp_path))
    assert pulled.exit_code == 2
    (line,) = pulled.output.strip().splitlines()
    assert all(name in line for name in [*PULLABLE, "openai", "anthropic", "buckets"]), line
    assert "auto" not in line


def test_a_long_error_line_is_not_wrapped_mid_path(tmp_path):
    deep = tmp_path.joinpath(*[f"a-rather-long-folder-name-{i}" for i in range(6)])
    result = _invoke("summary", "--home", str(deep))
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert str(deep / "warehouse.duckdb") in line
