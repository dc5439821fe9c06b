"""LiteLLM proxy connector against a real PostgreSQL holding LiteLLM's spend-log table."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta

import dagster as dg
import polars as pl
import psycopg
import pytest
import yaml

from tokenomics.config import load_config
from tokenomics.connectors import ConnectorError, pull
from tokenomics.home import Home

DAY = date(2026, 3, 5)
ROWS = 3000
PROMPT_CANARY = "PROMPT-BODY-CANARY-never-landed"

# LiteLLM's model LiteLLM_SpendLogs (schema.prisma) as Prisma creates it on PostgreSQL:
# String -> TEXT, Float -> DOUBLE PRECISION, Int -> INTEGER, DateTime -> TIMESTAMP(3), Json -> JSONB.
SPEND_LOGS_DDL = """
CREATE TABLE "LiteLLM_SpendLogs" (
    "request_id" TEXT NOT NULL,
    "call_type" TEXT NOT NULL,
    "api_key" TEXT NOT NULL DEFAULT '',
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "startTime" TIMESTAMP(3) NOT NULL,
    "endTime" TIMESTAMP(3) NOT NULL,
    "completionStartTime" TIMESTAMP(3),
    "model" TEXT NOT NULL DEFAULT '',
    "model_id" TEXT DEFAULT '',
    "model_group" TEXT DEFAULT '',
    "custom_llm_provider" TEXT DEFAULT '',
    "api_base" TEXT DEFAULT '',
    "user" TEXT DEFAULT '',
    "metadata" JSONB DEFAULT '{}',
    "cache_hit" TEXT DEFAULT '',
    "cache_key" TEXT DEFAULT '',
    "request_tags" JSONB DEFAULT '[]',
    "team_id" TEXT,
    "organization_id" TEXT,
    "end_user" TEXT,
    "requester_ip_address" TEXT,
    "messages" JSONB DEFAULT '{}',
    "response" JSONB DEFAULT '{}',
    "session_id" TEXT,
    "status" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "proxy_server_request" JSONB DEFAULT '{}',
    CONSTRAINT "LiteLLM_SpendLogs_pkey" PRIMARY KEY ("request_id")
);
CREATE INDEX "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs"("startTime");
"""

TEAMS = ["search", "support", "growth"]
FEATURES = ["chat", "summarize", "classify"]
MODELS = [("gpt-4o-mini", "openai"), ("claude-sonnet-4-20250514", "anthropic"), ("gpt-4o", "openai")]
COLUMNS = [
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "model",
    "model_group",
    "custom_llm_provider",
    "user",
    "metadata",
    "cache_hit",
    "request_tags",
    "team_id",
    "end_user",
    "messages",
    "response",
    "status",
    "proxy_server_request",
]


def generate_spend_logs(seed: int) -> tuple[list[tuple], pl.DataFrame]:
    """Rows for DAY (plus neighbours at the day's edges) and the usage_daily they must produce."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 5)
    rows, truth = [], []
    stamps = [start + timedelta(milliseconds=rng.randrange(86_400_000)) for _ in range(ROWS)]
    stamps[:3] = [start, start + timedelta(hours=23, minutes=59, seconds=59, milliseconds=999), start]
    outside = [
        start - timedelta(milliseconds=1),
        start + timedelta(days=1),
        start - timedelta(hours=5),
        start + timedelta(days=1, hours=3),
    ]
    for i, ts in enumerate(stamps + outside):
        team, feature = rng.choice(TEAMS), rng.choice(FEATURES)
        model, provider = rng.choice(MODELS)
        prompt, completion = rng.randrange(10, 4000), rng.randrange(1, 800)
        failed = rng.random() < 0.03
        cache_hit = rng.random() < 0.02  # LiteLLM's own cache: never reached a provider, skipped
        metadata = {
            "user_api_key_team_id": team,
            "user_api_key_alias": f"{team}-key",
            "user_api_key_end_user_id": f"user-{rng.randrange(50)}",
        }
        rows.append(
            (
                f"req-{i:06d}",
                "acompletion",
                f"{i % 7:064x}",
                round(prompt * 1e-6 + completion * 3e-6, 9),
                prompt + completion,
                prompt,
                completion,
                ts,
                ts + timedelta(milliseconds=rng.randrange(50, 5000)),
                model,
                model,
                provider,
                "",
                json.dumps(metadata),
                "True" if cache_hit else "False",
                json.dumps([f"feature:{feature}", "env:prod"]),
                team,
                None,
                json.dumps({"messages": [{"role": "user", "content": PROMPT_CANARY}]}),
                json.dumps({"choices": [{"message": {"content": PROMPT_CANARY}}]}),
                "failure" if failed else "success",
                json.dumps({"body": PROMPT_CANARY}),
            )
        )
        if ts.date() == DAY and not cache_hit:
            truth.append(
                {
                    "team": team,
                    "feature": feature,
                    "provider": provider,
                    "model": model,
                    "requests": 1,
                    "errors": int(failed),
                    "input_tokens": prompt,
                    "output_tokens": completion,
                }
            )
    expected = (
        pl.DataFrame(truth)
        .group_by("team", "feature", "provider", "model")
        .agg(pl.col("requests", "errors", "input_tokens", "output_tokens").sum())
        .sort("team", "feature", "provider", "model")
    )
    return rows, expected


@pytest.fixture(scope="module")
def proxy_db(postgres):
    url = postgres.create_database("litellm_proxy")
    rows, expected = generate_spend_logs(seed=5)
    with psycopg.connect(url) as con:
        con.execute(SPEND_LOGS_DDL)
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        with con.cursor().copy(f'COPY "LiteLLM_SpendLogs" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    return url, expected


@pytest.fixture
def home(tmp_path, proxy_db, monkeypatch):
    monkeypatch.setenv("PROXY_DB", proxy_db[0])
    h = Home(tmp_path / "home")
    h.root.mkdir()
    h.config_file.write_text(yaml.safe_dump({"connectors": {"litellm": {"dsn_env": "PROXY_DB", "page_rows": 700}}}))
    return h


def test_pull_reads_one_utc_day_in_pages_without_bodies(home, proxy_db):
    logs: list[str] = []
    landed = pull(home, load_config(home.config_file), "litellm", DAY, log=logs.append)
    assert [(item.source, item.rows, item.status) for item in landed] == [("litellm", ROWS, "new")]
    text = landed[0].path.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == ROWS and len({r["request_id"] for r in records}) == ROWS
    assert all(r["startTime"].startswith("2026-03-05") for r in records)
    assert sum(": page " in m for m in logs) == 5, "3000 rows in pages of 700"
    assert PROMPT_CANARY not in text
    assert not {"messages", "response", "proxy_server_request"} & set(records[0])
    password = psycopg.conninfo.conninfo_to_dict(proxy_db[0])["password"]
    assert proxy_db[0] not in text and all(proxy_db[0] not in m and f":{password}@" not in m for m in logs)

    again = pull(home, load_config(home.config_file), "litellm", DAY)
    assert again[0].status == "replaced" and again[0].path == landed[0].path
    assert [p.name for p in home.landing_day("litellm", DAY).iterdir()] == [landed[0].path.name], "no duplicate"


def test_pulled_day_materializes_to_the_generated_usage_daily(home, proxy_db):
    from pipelines.runner import run_days
    from tokenomics.lake import read_partition

    result = run_days(
        home,
        DAY,
        DAY,
        instance=dg.DagsterInstance.ephemeral(),
        assets=["landing_litellm", "usage_events", "usage_daily"],
    )
    assert result.success
    usage_daily = (
        read_partition(home.mart_day("usage_daily", DAY))
        .select("team", "feature", "provider", "model", "requests", "errors", "input_tokens", "output_tokens")
        .sort("team", "feature", "provider", "model")
    )
    expected = proxy_db[1]
    assert usage_daily.height == expected.height == len(TEAMS) * len(FEATURES) * len(MODELS)
    assert usage_daily.to_dicts() == expected.cast(usage_daily.schema).to_dicts()


def test_wrong_password_is_one_line_without_the_password(home, proxy_db, monkeypatch):
    bad = proxy_db[0].replace(":tokenomics@", ":not-the-password-canary@")
    monkeypatch.setenv("PROXY_DB", bad)
    with pytest.raises(ConnectorError) as caught:
        pull(home, load_config(home.config_file), "litellm", DAY)
    message = str(caught.value)
    assert "PROXY_DB" in message and "\n" not in message and "not-the-password-canary" not in message
    assert not home.landing_day("litellm", DAY).exists()


def test_a_database_without_the_spend_log_table_says_so(home, postgres, monkeypatch):
    monkeypatch.setenv("PROXY_DB", postgres.create_database("not_litellm"))
    with pytest.raises(ConnectorError, match='no table "LiteLLM_SpendLogs"'):
        pull(home, load_config(home.config_file), "litellm", DAY)
