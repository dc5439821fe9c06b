"""OpenAI and Anthropic admin API connectors against a real HTTP server on loopback."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import polars as pl
import pytest
import yaml

from tests.admin_api_server import AdminApiServer, Reply, page
from tokenomics.config import load_config
from tokenomics.connectors import ConnectorError, pull
from tokenomics.deliveries import latest_deliveries
from tokenomics.home import Home
from tokenomics.ingest import ingest_files, landing_files

DAY = date(2026, 3, 5)
START = int(datetime(2026, 3, 5, tzinfo=timezone.utc).timestamp())
END = START + 86400
OPENAI_KEY = "sk-admin-openai-SECRET-canary-0123456789"
ANTHROPIC_KEY = "sk-ant-admin01-SECRET-canary-9876543210"
COSTS = "/v1/organization/costs"
COMPLETIONS = "/v1/organization/usage/completions"


def completions_result(model: str, project: str, inp: int, out: int, requests: int) -> dict:
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": inp,
        "input_cached_tokens": 0,
        "output_tokens": out,
        "num_model_requests": requests,
        "project_id": project,
        "user_id": None,
        "api_key_id": "key_abc",
        "model": model,
        "batch": False,
        "service_tier": "default",
    }


def cost_result(value: str, line_item: str, project: str = "proj_a") -> dict:
    return {
        "object": "organization.costs.result",
        "amount": {"value": value, "currency": "usd"},
        "line_item": line_item,
        "project_id": project,
    }


def bucket(results: list[dict]) -> dict:
    return {"object": "bucket", "start_time": START, "end_time": END, "results": results}


def anthropic_bucket(results: list[dict]) -> dict:
    return {"starting_at": "2026-03-05T00:00:00Z", "ending_at": "2026-03-06T00:00:00Z", "results": results}


@pytest.fixture
def api():
    with AdminApiServer() as server:
        for kind in ("embeddings", "images", "audio_speeches", "audio_transcriptions", "vector_stores"):
            server.serve_pages(f"/v1/organization/usage/{kind}", [[bucket([])]])
        yield server


@pytest.fixture
def home(tmp_path, api, monkeypatch):
    monkeypatch.setenv("OAI_ADMIN", OPENAI_KEY)
    monkeypatch.setenv("ANT_ADMIN", ANTHROPIC_KEY)
    h = Home(tmp_path / "home")
    h.root.mkdir()
    retry = {"retry_backoff_seconds": 0.01, "retry_attempts": 4, "retry_budget_seconds": 5}
    h.config_file.write_text(
        yaml.safe_dump(
            {
                "connectors": {
                    "openai": {"admin_key_env": "OAI_ADMIN", "base_url": api.url + "/v1", **retry},
                    "anthropic": {"admin_key_env": "ANT_ADMIN", "base_url": api.url, **retry},
                }
            }
        )
    )
    return h


def _serve_costs(api: AdminApiServer, value: str = "1.25") -> None:
    api.serve_pages(
        COSTS,
        [
            [bucket([cost_result(value, "gpt-4o-2024-08-06, input")])],
            [bucket([cost_result("0.5", "gpt-4o-2024-08-06, output")])],
        ],
    )


def test_openai_pull_follows_every_page_and_lands_what_it_read(home, api):
    api.serve_pages(
        COMPLETIONS,
        [
            [bucket([completions_result("gpt-4o-2024-08-06", "proj_a", 1000, 100, 3)])],
            [bucket([completions_result("gpt-4o-mini-2024-07-18", "proj_a", 2000, 200, 5)])],
            [bucket([completions_result("gpt-4o-mini-2024-07-18", "proj_b", 4000, 400, 7)])],
        ],
    )
    _serve_costs(api)
    landed = pull(home, load_config(home.config_file), "openai", DAY)

    assert {(item.source, item.rows, item.status) for item in landed} == {
        ("openai_usage", 3, "new"),
        ("openai_costs", 2, "new"),
    }
    calls = api.requests_to(COMPLETIONS)
    assert [dict(q).get("page") for _, q, _ in calls] == [None, "page_1", "page_2"]
    query = calls[0][1]
    assert ("bucket_width", "1d") in query and ("start_time", str(START)) in query and ("end_time", str(END)) in query
    assert {v for k, v in query if k == "group_by"} == {"project_id", "api_key_id", "model", "batch", "service_tier"}
    assert calls[0][2]["authorization"] == f"Bearer {OPENAI_KEY}"

    usage_file = home.landing_day("openai_usage", DAY) / "openai_usage_2026-03-05.jsonl"
    lines = usage_file.read_text().splitlines()
    assert len(lines) == 3 + 5, "three completions pages plus one page per other usage kind, one line each"
    report = ingest_files([usage_file], "openai_usage", home.root / "out")
    usage = pl.read_parquet(home.root / "out" / "provider_usage.parquet")
    assert usage["input_tokens"].sum() == 7000 and usage["requests"].sum() == 15
    assert report.files[0].read == 3 and report.files[0].balanced

    costs_file = home.landing_day("openai_costs", DAY) / "openai_costs_2026-03-05.jsonl"
    ingest_files([costs_file], "openai_costs", home.root / "out2")
    billed = pl.read_parquet(home.root / "out2" / "billing_lines.parquet")["billed_cost"].sum()
    assert Decimal(str(billed)) == Decimal("1.75")


def test_anthropic_pull_asks_for_day_buckets_grouped_with_brackets(home, api):
    usage = {
        "api_key_id": "apikey_01",
        "workspace_id": "wrkspc_01",
        "model": "claude-sonnet-4-20250514",
        "service_tier": "standard",
        "context_window": "0-200k",
        "uncached_input_tokens": 1500,
        "cache_creation": {"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
        "cache_read_input_tokens": 200,
        "output_tokens": 500,
    }
    cost = {
        "currency": "USD",
        "amount": "123.78912",
        "workspace_id": "wrkspc_01",
        "description": "Claude Sonnet 4 Usage - Input Tokens",
        "cost_type": "tokens",
        "context_window": "0-200k",
        "model": "claude-sonnet-4-20250514",
        "service_tier": "standard",
        "token_type": "uncached_input_tokens",
    }
    api.serve_pages(
        "/v1/organizations/usage_report/messages", [[anthropic_bucket([usage])], [anthropic_bucket([usage])]]
    )
    api.serve_pages("/v1/organizations/cost_report", [[anthropic_bucket([cost])]])
    landed = pull(home, load_config(home.config_file), "anthropic", DAY)

    assert {(item.source, item.rows) for item in landed} == {("anthropic_usage", 2), ("anthropic_cost", 1)}
    path, query, headers = api.requests_to("/v1/organizations/usage_report/messages")[0]
    assert ("starting_at", "2026-03-05T00:00:00Z") in query and ("ending_at", "2026-03-06T00:00:00Z") in query
    assert (
        ("bucket_width", "1d") in query and ("group_by[]", "workspace_id") in query and ("group_by[]", "model") in query
    )
    assert headers["x-api-key"] == ANTHROPIC_KEY and headers["anthropic-version"] == "2023-06-01"
    out = home.root / "out"
    ingest_files(landing_files(home, "anthropic_cost", DAY), "anthropic_cost", out)
    assert Decimal(str(pl.read_parquet(out / "billing_lines.parquet")["billed_cost"].sum())) == Decimal("1.2378912")


def test_429_then_success_waits_what_retry_after_says(home, api):
    api.serve(
        COSTS,
        [
            Reply(429, '{"error": "rate limited"}', {"Retry-After": "1"}),
            Reply(body=page([bucket([cost_result("2.0", "gpt-4o-2024-08-06, input")])])),
        ],
    )
    started = time.monotonic()
    landed = pull(home, load_config(home.config_file), "openai_costs", DAY)
    assert time.monotonic() - started >= 1.0, "Retry-After: 1 is honoured, not the 0.01 s backoff"
    assert len(api.requests_to(COSTS)) == 2 and landed[0].rows == 1


def test_500_then_success_retries_with_backoff(home, api):
    api.serve(
        COSTS,
        [
            Reply(500, "upstream exploded"),
            Reply(503, "again"),
            Reply(body=page([bucket([cost_result("2.0", "gpt-4o-2024-08-06, input")])])),
        ],
    )
    landed = pull(home, load_config(home.config_file), "openai_costs", DAY)
    assert len(api.requests_to(COSTS)) == 3 and landed[0].rows == 1


def test_429_storm_fails_within_budget_and_lands_nothing(home, api):
    # page 1 succeeds, page 2 is rate limited for good: no partial report may land
    api.serve(COSTS, [Reply(body=page([bucket([cost_result("2.0", "gpt-4o-2024-08-06, input")])], "page_1"))])
    api.serve(COSTS, [Reply(429, "slow down", {"Retry-After": "0"})], cursor="page_1")
    with pytest.raises(ConnectorError, match=r"still HTTP 429 after 4 attempts.*nothing was written"):
        pull(home, load_config(home.config_file), "openai_costs", DAY)
    assert len(api.requests_to(COSTS)) == 1 + 4
    assert not home.landing_day("openai_costs", DAY).exists()


def test_retry_after_beyond_the_budget_fails_at_once(home, api):
    api.serve(COSTS, [Reply(429, "slow down", {"Retry-After": "3600"})])
    started = time.monotonic()
    with pytest.raises(ConnectorError, match="beyond the retry budget"):
        pull(home, load_config(home.config_file), "openai_costs", DAY)
    assert time.monotonic() - started < 2 and len(api.requests_to(COSTS)) == 1


def test_expired_key_is_one_line_naming_the_variable(home, api):
    api.serve(COSTS, [Reply(401, json.dumps({"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}"}}))])
    with pytest.raises(ConnectorError) as caught:
        pull(home, load_config(home.config_file), "openai_costs", DAY)
    message = str(caught.value)
    assert "OAI_ADMIN" in message and "401" in message and "\n" not in message
    assert OPENAI_KEY not in message
    assert len(api.requests_to(COSTS)) == 1, "a refused key is not retried"


def test_missing_key_variable_names_it(home, api, monkeypatch):
    monkeypatch.delenv("OAI_ADMIN")
    with pytest.raises(ValueError, match="OAI_ADMIN is not set"):
        pull(home, load_config(home.config_file), "openai_costs", DAY)
    assert api.requests == []


def test_rerun_converges_and_a_restatement_is_a_newer_delivery(home, api):
    _serve_costs(api, "1.25")
    config = load_config(home.config_file)
    assert pull(home, config, "openai_costs", DAY)[0].status == "new"
    _serve_costs(api, "1.25")
    assert pull(home, config, "openai_costs", DAY)[0].status == "unchanged"
    assert len(landing_files(home, "openai_costs", DAY)) == 1
    _serve_costs(api, "1.40")  # the provider restated the day
    restated = pull(home, config, "openai_costs", DAY)[0]
    assert restated.status == "restated" and "_delivered-" in restated.path.name
    files = landing_files(home, "openai_costs", DAY)
    read, superseded = latest_deliveries(files)
    assert read == [restated.path] and len(superseded) == 1
    out = home.root / "out"
    ingest_files(read, "openai_costs", out)
    assert Decimal(str(pl.read_parquet(out / "billing_lines.parquet")["billed_cost"].sum())) == Decimal("1.90")


def test_not_configured_is_off(tmp_path):
    h = Home(tmp_path)
    with pytest.raises(ConnectorError, match="not configured"):
        pull(h, load_config(h.config_file), "openai", DAY)


def test_admin_keys_never_reach_landing_or_logs(home, api):
    api.serve(
        COMPLETIONS, [Reply(500, "oops"), Reply(body=page([bucket([completions_result("gpt-4o", "p", 1, 1, 1)])]))]
    )
    _serve_costs(api)
    logs: list[str] = []
    pull(home, load_config(home.config_file), "openai", DAY, log=logs.append)
    assert logs, "the retry was logged"
    for text in logs + [p.read_text() for p in home.landing.rglob("*") if p.is_file()]:
        assert OPENAI_KEY not in text and ANTHROPIC_KEY not in text


def test_connector_assets_feed_the_lake_and_leak_no_key(home, api):
    import dagster as dg

    from pipelines.runner import run_days
    from tokenomics.lake import read_partition

    api.serve_pages(COMPLETIONS, [[bucket([completions_result("gpt-4o-2024-08-06", "proj_a", 1000, 100, 3)])]])
    _serve_costs(api)
    api.serve(
        COSTS,
        [
            Reply(429, "slow", {"Retry-After": "0"}),
            Reply(body=page([bucket([cost_result("1.25", "gpt-4o-2024-08-06, input")])], "page_1")),
        ],
    )
    api.serve_pages("/v1/organizations/usage_report/messages", [[anthropic_bucket([])]])
    api.serve_pages("/v1/organizations/cost_report", [[anthropic_bucket([])]])
    instance = dg.DagsterInstance.ephemeral()
    result = run_days(
        home,
        DAY,
        DAY,
        instance=instance,
        assets=[
            "landing_openai",
            "landing_anthropic",
            "landing_litellm",
            "landing_buckets",
            "billing_lines",
            "provider_usage",
        ],
    )
    assert result.success
    billed = read_partition(home.table_day("billing_lines", DAY))
    assert Decimal(str(billed["billed_cost"].sum())) == Decimal("1.75")
    assert read_partition(home.table_day("provider_usage", DAY))["input_tokens"].sum() == 1000
    unconfigured = result.asset_materializations_for_node("landing_litellm")[0].metadata["configured"].value
    assert unconfigured is False
    events = [str(e) for e in instance.all_logs(result.run_id)]  # log lines and materialization metadata
    assert any("landing_openai" in e and "openai_costs_2026-03-05.jsonl" in e for e in events)
    assert not any(OPENAI_KEY in e or ANTHROPIC_KEY in e for e in events)


def test_cli_pull_prints_the_conservation_report(home, api):
    from click.testing import CliRunner

    from pipelines.cli import main

    _serve_costs(api)
    result = CliRunner().invoke(main, ["pull", "openai_costs", "--day", str(DAY), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    assert "landed landing/openai_costs/2026-03-05/openai_costs_2026-03-05.jsonl (new, 2 rows fetched)" in result.output
    assert (
        "openai_costs_2026-03-05.jsonl (openai_costs): read 2, kept 2, quarantined 0, deduplicated 0, skipped 0"
        in result.output
    )
    assert OPENAI_KEY not in result.output

    api.serve(COSTS, [Reply(401, "expired")])
    failed = CliRunner().invoke(main, ["pull", "openai_costs", "--day", str(DAY), "--home", str(home.root)])
    assert failed.exit_code == 1 and "OAI_ADMIN" in failed.output and OPENAI_KEY not in failed.output
