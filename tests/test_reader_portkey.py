"""Portkey logs exports: formats.md section 9.2 fields, asserted on rows after normalize."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timezone
from decimal import Decimal

import polars as pl

from tests.readers import FIXTURES, ingest, tally
from tokenomics.sources import portkey


def row(kept: pl.DataFrame, event_id: str) -> dict:
    (found,) = kept.filter(pl.col("event_id") == event_id).to_dicts()
    return found


def user_hash(user: str) -> str:
    return hmac.new(os.environ["TOKENOMICS_HMAC_KEY"].encode(), user.encode(), hashlib.sha256).hexdigest()[:32]


def test_portkey_log_maps_every_column():
    kept, quarantine, counts = ingest(portkey, "logs.jsonl")
    assert quarantine.height == 0 and tally(counts) == (3, 3, 0, 0, 0)
    r = row(kept, "p-1")
    assert r["ts"] == datetime(2025, 4, 1, 12, 0, tzinfo=timezone.utc)
    assert (r["provider"], r["model"], r["status"], r["latency_ms"]) == ("openai", "gpt-4o", "ok", 1234)
    assert (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"]) == (1000, 200, 0)
    assert r["user_hash"] == user_hash("customer-42")
    assert r["gateway_team"] == "legal"
    assert r["labels"] == [{"key": "team", "value": "legal"}, {"key": "env", "value": "prod"}]


def test_portkey_cost_is_assumed_cents_of_usd():
    kept, _, _ = ingest(portkey, "logs.jsonl")
    assert row(kept, "p-1")["reported_cost_usd"] == Decimal("0.005")
    assert row(kept, "p-3")["reported_cost_usd"] == Decimal("0.00123")  # no currency: USD


def test_portkey_cost_in_another_currency_is_not_a_usd_cost():
    kept, _, _ = ingest(portkey, "logs.jsonl")
    assert row(kept, "p-2")["reported_cost_usd"] is None


def test_portkey_failed_request_is_an_error_and_vertex_provider_is_canonical():
    kept, _, _ = ingest(portkey, "logs.jsonl")
    r = row(kept, "p-2")
    assert (r["status"], r["provider"], r["model"]) == ("error", "gcp_vertex", "gemini-1.5-pro")


def test_portkey_ai_org_model_string_gives_provider_and_model():
    kept, _, _ = ingest(portkey, "logs.jsonl")
    r = row(kept, "p-3")
    assert (r["provider"], r["model"]) == ("anthropic", "claude-3-5-sonnet")
    assert r["ts"] == datetime(2025, 4, 1, 12, 2, tzinfo=timezone.utc)


def test_portkey_csv_export_with_metadata_text():
    kept, quarantine, counts = ingest(portkey, "logs.csv")
    assert quarantine.height == 0 and counts.read == 2
    r = row(kept, "p-csv-1")
    assert (r["input_tokens"], r["output_tokens"], r["latency_ms"], r["status"]) == (100, 10, 250, "ok")
    assert r["reported_cost_usd"] == Decimal("0.000015")
    assert (r["gateway_team"], r["user_hash"]) == ("search", user_hash("customer-7"))
    failed = row(kept, "p-csv-2")
    assert (failed["status"], failed["provider"], failed["input_tokens"]) == ("error", "azure_openai", 200)
    assert failed["reported_cost_usd"] is None and failed["labels"] == []


def test_portkey_bodies_and_end_user_never_reach_rows_or_quarantine():
    for name in ("logs.jsonl", "logs.csv", "bad_rows.jsonl"):
        kept, quarantine, _ = ingest(portkey, name)
        text = kept.write_ndjson() + quarantine.write_ndjson()
        for secret in ("SECRET-PROMPT-BODY", "SECRET-RESPONSE-BODY", "customer-42", "customer-7"):
            assert secret not in text, (name, secret)


def test_portkey_malformed_line_is_quarantined_and_duplicate_keeps_the_first():
    kept, quarantine, counts = ingest(portkey, "bad_rows.jsonl")
    assert kept["event_id"].to_list() == ["p-10"] and row(kept, "p-10")["input_tokens"] == 5
    assert dict(zip(quarantine["line"].to_list(), quarantine["reason"].to_list())) == {
        2: "malformed_json",
        3: "negative_tokens",
        5: "missing_model",
    }
    assert tally(counts) == (5, 1, 3, 1, 0)


def test_portkey_sniff_claims_its_files_only():
    for name in ("logs.jsonl", "logs.csv", "bad_rows.jsonl"):
        path = FIXTURES / "portkey" / name
        assert portkey.sniff(path, path.read_bytes()[:65536]), name
    for other in ("helicone/requests.jsonl", "cloudflare/logs_api.json", "litellm/spend_logs.csv"):
        path = FIXTURES / other
        assert not portkey.sniff(path, path.read_bytes()[:65536]), other
