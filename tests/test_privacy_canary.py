"""Canary: bodies, API keys and raw end-user ids placed in the logs never reach any file in the home."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.instance import instance_for
from pipelines.runner import run_days
from tokenomics.home import Home

DAY = date(2026, 4, 7)
MARKERS = ["CANARY-PROMPT-7f3a9", "CANARY-RESPONSE-c0ffee", "CANARYKEY", "customer-42@example.com"]


def _texts_in(path: Path) -> list[str]:
    """Every string a file holds, decompressed: Parquet and DuckDB are read, other files taken as bytes."""
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        return [str(v) for col in frame.columns for v in frame[col].to_list()]
    if path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            texts = []
            for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                texts += [str(r) for r in con.execute(f'SELECT * FROM "{table}"').fetchall()]
            return texts
        finally:
            con.close()
    return [path.read_bytes().decode("utf-8", errors="ignore")]


PROMPT, RESPONSE, KEY, USER = (
    "CANARY-PROMPT-7f3a9",
    "CANARY-RESPONSE-c0ffee",
    "sk-live-CANARYKEY-0123456789abcdef",
    "customer-42@example.com",
)
T = f"{DAY}T10:00:00Z"
MESSAGES = [{"role": "user", "content": f"{PROMPT} tell me a secret"}]


def _bad(row: dict, **broken) -> dict:
    """The same canary row with a count no row rule accepts: it goes to quarantine, `raw` and all."""
    return {**row, **broken}


def _canary_rows() -> dict[str, tuple[str, list]]:
    """One good and one quarantined canary row per gateway reader besides LiteLLM and OTel (fixture files)."""
    helicone = {
        "request_id": "h-canary",
        "request_created_at": T,
        "request_path": "/v1/chat/completions",
        "request_user_id": USER,
        "request_properties": {"Helicone-Property-Team": "search", "Helicone-Property-Api-Key": KEY},
        "request_model": "gpt-4o",
        "provider": "OPENAI",
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "costUSD": 0.0005,
        "response_status": 200,
        "delay_ms": 100,
        "request_body": {"messages": MESSAGES},
        "response_body": RESPONSE,
    }
    langfuse = {
        "id": "lf-canary",
        "traceId": "t-canary",
        "type": "GENERATION",
        "startTime": T,
        "model": "gpt-4o",
        "input": MESSAGES,
        "output": {"content": RESPONSE},
        "metadata": {"feature": "search", "api_key": KEY},
        "usageDetails": {"input": 100, "output": 20},
        "userId": USER,
    }
    openrouter = {
        "id": "or-canary",
        "created_at": T,
        "model": "openai/gpt-4o",
        "total_cost": 0.001,
        "tokens_prompt": 100,
        "tokens_completion": 20,
        "native_tokens_prompt": 100,
        "native_tokens_completion": 20,
        "user": USER,
        "external_user": USER,
    }
    portkey = {
        "id": "pk-canary",
        "created_at": T,
        "is_success": True,
        "ai_org": "openai",
        "ai_model": "gpt-4o",
        "request": {"messages": MESSAGES, "headers": {"authorization": f"Bearer {KEY}"}},
        "response": {"choices": [{"message": {"content": RESPONSE}}]},
        "req_units": 100,
        "res_units": 20,
        "cost": 0.05,
        "cost_currency": "USD",
        "response_time": 100,
        "response_status_code": 200,
        "metadata": {"_user": USER, "team": "search", "api_key": KEY},
    }
    cloudflare = {
        "id": "cf-canary",
        "created_at": T,
        "provider": "openai",
        "model": "gpt-4o",
        "success": True,
        "cached": False,
        "status_code": 200,
        "duration": 100,
        "tokens_in": 100,
        "tokens_out": 20,
        "cost": 0.0005,
        "metadata": json.dumps({"team": "search", "api_key": KEY}),
        "request_head": PROMPT,
        "response_head": RESPONSE,
    }
    return {
        "helicone": ("requests.jsonl", [helicone, _bad(helicone, request_id="h-canary-bad", prompt_tokens=-5)]),
        "langfuse": (
            "observations.jsonl",
            [langfuse, _bad(langfuse, id="lf-canary-bad", usageDetails={"input": "12.5", "output": 20})],
        ),
        "openrouter": (
            "generations.jsonl",
            [{"data": openrouter}, {"data": _bad(openrouter, id="or-canary-bad", native_tokens_prompt="ten")}],
        ),
        "portkey": ("logs.jsonl", [portkey, _bad(portkey, id="pk-canary-bad", res_units=-1)]),
        "cloudflare": (
            "logs.jsonl",
            [{"success": True, "result": [cloudflare, _bad(cloudflare, id="cf-canary-bad", tokens_out=-1)]}],
        ),
    }


@pytest.mark.slow
def test_no_body_key_or_raw_user_id_reaches_the_home(tmp_path, fixtures, monkeypatch):
    home = Home(tmp_path)
    for source, name in (("litellm", "canary_spend_logs.jsonl"), ("otel", "canary_traces.jsonl")):
        folder = home.landing_day(source, DAY)
        folder.mkdir(parents=True)
        shutil.copy(fixtures / "pipeline" / name, folder / name)
    litellm = json.loads((fixtures / "pipeline" / "canary_spend_logs.jsonl").read_text().splitlines()[0])
    bad_litellm = {**litellm, "request_id": "chatcmpl-canary-bad", "prompt_tokens": -5}
    (home.landing_day("litellm", DAY) / "canary_bad.jsonl").write_text(json.dumps(bad_litellm) + "\n")
    for source, (name, rows) in _canary_rows().items():
        folder = home.landing_day(source, DAY)
        folder.mkdir(parents=True)
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    instance = instance_for(home)  # the real, persistent instance under <home>/dagster: its run storage is scanned too
    try:
        result = run_days(home, DAY, DAY, instance=instance)
    finally:
        instance.dispose()
    assert result.success
    assert any((home.dagster).rglob("*.db")), "the run was not recorded in the home's instance"
    events = pl.read_parquet(home.table_day("usage_events", DAY) / "*.parquet")
    readers = {"litellm", "otel", "helicone", "langfuse", "openrouter", "portkey", "cloudflare"}
    assert set(events["source"]) == readers  # the canary rows themselves landed: the test checks real output
    assert events.filter(pl.col("source") != "litellm")["user_hash"].drop_nulls().len() >= 4  # user ids were seen
    quarantine = pl.read_parquet(home.quarantine_day("usage_events", DAY) / "*.parquet")
    assert readers - {"otel"} <= set(quarantine["source"]), quarantine.select("source", "reason")
    assert quarantine["raw"].drop_nulls().len() >= 6  # quarantined canaries keep a raw record: scanned below
    leaks = []
    for path in home.root.rglob("*"):
        if not path.is_file() or home.landing in path.parents:
            continue
        for text in _texts_in(path):
            leaks += [(str(path.relative_to(home.root)), m) for m in MARKERS if m in text]
    assert leaks == []
