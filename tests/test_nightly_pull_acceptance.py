"""Issue 11 acceptance: a nightly tick fetches every configured source and publishes what a hand-dropped run does.

One generated day is put where the data lives (LiteLLM's spend logs in a real PostgreSQL, the OpenAI
and Anthropic admin reports on a loopback HTTP server, a FOCUS export in an S3 API server). A home
with nothing in landing runs the nightly schedule's request for that day through Dagster; a second
home gets the same data dropped by hand into landing and runs the same day. Their warehouses must
hold the same tables, and no secret from the environment may reach landing, Dagster's event log or
the warehouse.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime, timedelta, timezone

import dagster as dg
import duckdb
import polars as pl
import psycopg
import pytest
import yaml
from pyarrow import fs as pafs

from pipelines.definitions import defs
from pipelines.runner import run_days
from tests.admin_api_server import AdminApiServer
from tests.published import assert_same_tables, published_tables
from tests.test_connector_litellm import SPEND_LOGS_DDL
from tokenomics.deliveries import latest_deliveries
from tokenomics.generator import generate
from tokenomics.home import Home
from tokenomics.ingest import landing_files

DAY = date(2026, 3, 2)  # not the generator's restated day (it restates the second day of a run)
OPENAI_KEY = "sk-admin-openai-ACCEPTANCE-canary-5f1e2d3c"
ANTHROPIC_KEY = "sk-ant-admin01-ACCEPTANCE-canary-8a7b6c5d"
JSONB = {"metadata", "request_tags", "messages", "response", "proxy_server_request"}
TIMESTAMPS = {"startTime", "endTime", "completionStartTime"}
NUMBERS = {"spend": float, "total_tokens": int, "prompt_tokens": int, "completion_tokens": int}


def _spend_logs(generated: Home) -> tuple[list[str], list[dict]]:
    """The day's LiteLLM spend logs from every generated proxy file, as LiteLLM's table stores them."""
    columns = [line.split('"')[1] for line in SPEND_LOGS_DDL.splitlines() if line.strip().startswith('"')]
    records = []
    for path in landing_files(generated, "litellm", DAY):
        with path.open() as fh:
            rows = csv.DictReader(fh) if path.suffix == ".csv" else (json.loads(line) for line in fh)
            records += list(rows)
    out = []
    for r in records:
        row = {}
        for c in columns:
            value = r.get(c)
            if value in (None, "") and c in JSONB:
                value = None if c == "request_tags" and value is None else ("{}" if c != "request_tags" else "[]")
            elif c in TIMESTAMPS and value:
                # TIMESTAMP(3): what LiteLLM's table keeps is milliseconds
                t = datetime.fromisoformat(value)
                value = t.replace(microsecond=t.microsecond // 1000 * 1000).isoformat(sep=" ", timespec="milliseconds")
            elif c in NUMBERS and value not in (None, ""):
                value = NUMBERS[c](value)
            elif c in JSONB and not isinstance(value, str):
                value = json.dumps(value)
            row[c] = value
        out.append(row)
    return columns, out


def _report_buckets(path) -> list[dict]:
    return json.loads(path.read_text())["data"]


@pytest.fixture
def sources(tmp_path, postgres, s3, monkeypatch):
    """The generated day served from PostgreSQL, the admin APIs and a bucket; the hand-dropped copy beside."""
    generated = Home(tmp_path / "generated")
    generate(generated.root, DAY, 1, 120, 17)

    # LiteLLM: the proxy's table, and the same rows as a hand-exported JSONL
    columns, logs = _spend_logs(generated)
    dsn = postgres.create_database("litellm_acceptance")
    with psycopg.connect(dsn) as con:
        con.execute(SPEND_LOGS_DDL)
        names = ", ".join(f'"{c}"' for c in columns)
        with con.cursor().copy(f'COPY "LiteLLM_SpendLogs" ({names}) FROM STDIN') as copy:
            for row in logs:
                copy.write_row([row[c] for c in columns])
    hand = Home(tmp_path / "hand")
    hand.landing_day("litellm", DAY).mkdir(parents=True)
    (hand.landing_day("litellm", DAY) / "spend_logs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in logs))

    # admin APIs: the generated reports as the providers serve them, two pages where there is enough
    api = AdminApiServer().__enter__()
    report_paths = {
        "/v1/organization/usage/completions": ("openai_usage", "completions_usage"),
        "/v1/organization/usage/embeddings": ("openai_usage", "embeddings_usage"),
        "/v1/organization/costs": ("openai_costs", "costs"),
        "/v1/organizations/usage_report/messages": ("anthropic_usage", "usage_report_messages"),
        "/v1/organizations/cost_report": ("anthropic_cost", "cost_report"),
    }
    for route, (source, stem) in report_paths.items():
        current, _ = latest_deliveries([p for p in landing_files(generated, source, DAY) if p.name.startswith(stem)])
        (path,) = current
        buckets = _report_buckets(path)
        results = buckets[0]["results"]
        half = len(results) // 2
        if half:
            api.serve_pages(
                route, [[{**buckets[0], "results": results[:half]}], [{**buckets[0], "results": results[half:]}]]
            )
        else:
            api.serve_pages(route, [buckets])
        hand.landing_day(source, DAY).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, hand.landing_day(source, DAY) / path.name)

    # an export bucket: the FOCUS file as the cloud wrote it
    env = s3.env()
    s3.create_bucket("acceptance-exports")
    store = pafs.S3FileSystem(
        access_key=env["AWS_ACCESS_KEY_ID"],
        secret_key=env["AWS_SECRET_ACCESS_KEY"],
        region=env["AWS_REGION"],
        endpoint_override=s3.endpoint.removeprefix("http://"),
        scheme="http",
    )
    (focus,) = landing_files(generated, "focus", DAY)
    with store.open_output_stream(f"acceptance-exports/focus/2026-03/{focus.name}") as out:
        out.write(focus.read_bytes())
    hand.landing_day("focus", DAY).mkdir(parents=True)
    shutil.copy(focus, hand.landing_day("focus", DAY) / focus.name)

    for key, value in {
        **env,
        "PROXY_DATABASE_URL": dsn,
        "OPENAI_ADMIN": OPENAI_KEY,
        "ANTHROPIC_ADMIN": ANTHROPIC_KEY,
    }.items():
        monkeypatch.setenv(key, value)
    config = yaml.safe_load(generated.config_file.read_text())
    hand.config_file.write_text(yaml.safe_dump(config))
    pulled = Home(tmp_path / "pulled")
    pulled.root.mkdir()
    config["connectors"] = {
        "litellm": {"dsn_env": "PROXY_DATABASE_URL", "page_rows": 50},
        "openai": {
            "admin_key_env": "OPENAI_ADMIN",
            "base_url": api.url + "/v1",
            "usage": ["completions", "embeddings"],
        },
        "anthropic": {"admin_key_env": "ANTHROPIC_ADMIN", "base_url": api.url},
        "buckets": [{"source": "focus", "url": "s3://acceptance-exports/focus"}],
    }
    pulled.config_file.write_text(yaml.safe_dump(config))
    secrets = [
        dsn,
        f":{psycopg.conninfo.conninfo_to_dict(dsn)['password']}@",
        OPENAI_KEY,
        ANTHROPIC_KEY,
        env["AWS_SECRET_ACCESS_KEY"],
    ]
    try:
        yield pulled, hand, api, len(logs), secrets
    finally:
        api.__exit__(None, None, None)


def _as_text(warehouse) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(str(con.sql(f'SELECT * FROM "{n}"').fetchall()) for n in names)
    finally:
        con.close()


def _comparable(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """What may differ between the two homes without the data differing.

    A connector names its landing file itself (e.g. openai_costs_D.jsonl): compare the folder, not the
    name. Rows arrive in another order (the database pages by "startTime"; the hand export is per
    proxy), and a data-quality share GX computes with float sums then differs in its last digits:
    compare observed values to 12 significant digits (money columns are decimals, compared exactly).
    """
    out = {}
    for name, frame in tables.items():
        cols = [c for c in ("source_file", "file") if c in frame.columns]
        frame = frame.with_columns(pl.col(c).str.replace(r"[^/]*$", "") for c in cols)
        if name == "data_quality":
            as_float = pl.col("observed_value").cast(pl.Float64, strict=False)
            frame = frame.with_columns(
                pl.when(as_float.is_not_null())
                .then(as_float.map_batches(lambda s: s.round_sig_figs(12), return_dtype=pl.Float64).cast(pl.String))
                .otherwise(pl.col("observed_value"))
                .alias("observed_value")
            )
        out[name] = frame.sort(
            [c for c, t in frame.schema.items() if not isinstance(t, (pl.List, pl.Struct, pl.Array))], nulls_last=True
        )
    return out


@pytest.mark.slow
def test_nightly_tick_fetches_every_source_and_publishes_what_a_hand_dropped_run_does(sources):
    pulled, hand, api, spend_logs, secrets = sources
    assert not pulled.landing.exists(), "nothing in landing before the tick"

    schedule = defs.resolve_schedule_def("nightly")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime.combine(DAY + timedelta(days=1), datetime.min.time(), timezone.utc)
        + timedelta(hours=2),
        repository_def=defs.get_repository_def(),
    )
    request = next(iter(schedule.evaluate_tick(context).run_requests))
    assert request.partition_key == str(DAY) and request.asset_selection is None
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def(schedule.job_name).execute_in_process(
        instance=instance,
        partition_key=request.partition_key,
        tags=request.tags,
        run_config={"resources": {"tokenomics": {"config": {"root": str(pulled.root)}}}},
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    # every configured source was fetched from its server into landing
    landed = {p.parent.parent.name: p for p in pulled.landing.rglob("*") if p.is_file()}
    assert set(landed) == {"litellm", "openai_usage", "openai_costs", "anthropic_usage", "anthropic_cost", "focus"}
    assert len(landed["litellm"].read_text().splitlines()) == spend_logs
    for route in (
        "/v1/organization/usage/completions",
        "/v1/organization/costs",
        "/v1/organizations/usage_report/messages",
        "/v1/organizations/cost_report",
    ):
        assert [dict(q).get("page") for _, q, _ in api.requests_to(route)] == [None, "page_1"], route
    for key in ("landing_litellm", "landing_openai", "landing_anthropic", "landing_buckets"):
        assert result.asset_materializations_for_node(key)[0].metadata["configured"].value is True, key

    hand_run = run_days(hand, DAY, DAY, instance=dg.DagsterInstance.ephemeral())
    assert hand_run.success, [e.message for e in hand_run.all_events if e.is_failure]
    tables = published_tables(pulled.warehouse)
    assert tables["usage_daily"].height > 0 and tables["billing_daily"].height > 0
    assert set(tables["billing_daily"]["provider"]) >= {"openai", "anthropic"}
    assert_same_tables(_comparable(tables), _comparable(published_tables(hand.warehouse)))

    # no secret from the environment in landing, the run's event log (messages and metadata) or the warehouse
    texts = {str(p): p.read_text(errors="replace") for p in pulled.landing.rglob("*") if p.is_file()}
    texts["dagster event log"] = "\n".join(str(entry) for entry in instance.all_logs(result.run_id))
    texts["warehouse"] = _as_text(pulled.warehouse)
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, (where, secret[:12])
