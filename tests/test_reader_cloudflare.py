"""Cloudflare AI Gateway logs: formats.md section 9.3 fields, asserted on rows after normalize."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import polars as pl

from tests.readers import FIXTURES, ingest, tally
from tokenomics.sources import cloudflare


def row(kept: pl.DataFrame, event_id: str) -> dict:
    (found,) = kept.filter(pl.col("event_id") == event_id).to_dicts()
    return found


def test_cloudflare_api_answer_result_rows_map_every_column():
    kept, quarantine, _ = ingest(cloudflare, "logs_api.json")
    assert quarantine.height == 0
    r = row(kept, "01J-CF-1")
    assert r["ts"] == datetime(2025, 5, 1, 9, 0, 0, 123000, tzinfo=timezone.utc)
    assert (r["provider"], r["model"], r["status"], r["latency_ms"]) == ("openai", "gpt-4o-mini", "ok", 420)
    assert (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["requests"]) == (100, 50, 0, 1)
    assert r["reported_cost_usd"] == Decimal("0.000045")


def test_cloudflare_metadata_json_string_gives_string_labels_and_team():
    kept, _, _ = ingest(cloudflare, "logs_api.json")
    r = row(kept, "01J-CF-1")
    assert r["labels"] == [{"key": "team", "value": "search"}, {"key": "feature", "value": "autocomplete"}]
    assert r["gateway_team"] == "search"
    assert row(kept, "01J-CF-3")["labels"] == []


def test_cloudflare_cached_response_is_skipped_and_counted():
    kept, _, counts = ingest(cloudflare, "logs_api.json")
    assert kept["event_id"].to_list() == ["01J-CF-1", "01J-CF-3", "01J-CF-4"]
    assert tally(counts) == (4, 3, 0, 0, 1)


def test_cloudflare_unsuccessful_request_is_an_error_and_gateway_provider_names_map():
    kept, _, _ = ingest(cloudflare, "logs_api.json")
    r = row(kept, "01J-CF-3")
    assert (r["status"], r["provider"], r["reported_cost_usd"]) == ("error", "aws_bedrock", None)
    assert row(kept, "01J-CF-4")["provider"] == "other"  # workers-ai: Cloudflare's own models


def test_cloudflare_heads_are_never_stored():
    kept, quarantine, _ = ingest(cloudflare, "logs_api.json")
    assert "SECRET-PROMPT-BODY" not in kept.write_ndjson() + quarantine.write_ndjson()


def test_cloudflare_pages_as_lines_malformed_line_quarantined_duplicate_dedups():
    kept, quarantine, counts = ingest(cloudflare, "bad_rows.jsonl")
    assert kept["event_id"].to_list() == ["cf-10"]
    assert row(kept, "cf-10")["ts"] == datetime(2025, 5, 2, 0, 0, tzinfo=timezone.utc)
    assert sorted(zip(quarantine["line"].to_list(), quarantine["reason"].to_list())) == [
        (2, "malformed_json"),
        (3, "negative_tokens"),
        (4, "bad_reported_cost"),
    ]
    assert tally(counts) == (6, 1, 3, 1, 1)


def test_cloudflare_sniff_claims_its_files_only():
    for name in ("logs_api.json", "bad_rows.jsonl"):
        path = FIXTURES / "cloudflare" / name
        assert cloudflare.sniff(path, path.read_bytes()[:65536]), name
    for other in ("helicone/requests.jsonl", "portkey/logs.jsonl", "litellm/spend_logs_api.json"):
        path = FIXTURES / other
        assert not cloudflare.sniff(path, path.read_bytes()[:65536]), other
