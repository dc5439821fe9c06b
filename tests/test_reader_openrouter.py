"""OpenRouter activity CSV and generation API JSON: vendor/model, native counts, cache, cost, bad rows."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timezone
from decimal import Decimal

import polars as pl
from readers import FIXTURES, ingest, tally

from tokenomics.sources import detect, langfuse, openrouter


def row(kept: pl.DataFrame, event_id: str) -> dict:
    (found,) = kept.filter(pl.col("event_id") == event_id).to_dicts()
    return found


def tokens(r: dict) -> tuple[int, ...]:
    return (
        r["input_tokens"],
        r["cache_read_tokens"],
        r["cache_write_tokens"],
        r["output_tokens"],
        r["reasoning_tokens"],
    )


def user_hash(user: str) -> str:
    return hmac.new(os.environ["TOKENOMICS_HMAC_KEY"].encode(), user.encode(), hashlib.sha256).hexdigest()[:32]


def test_openrouter_csv_export_maps_every_column():
    kept, quarantine, counts = ingest(openrouter, "activity.csv")
    assert quarantine.height == 0 and tally(counts) == (2, 2, 0, 0, 0)
    r = row(kept, "gen-1782618417-NEpXKqXYIDjS7TmNrT9j")
    assert (r["provider"], r["vendor"], r["model"], r["status"]) == (
        "openrouter",
        "anthropic",
        "anthropic/claude-sonnet-4",
        "ok",
    )
    assert r["ts"] == datetime(2026, 6, 28, 3, 46, 57, 713000, tzinfo=timezone.utc)  # naive ms = UTC
    assert tokens(r) == (1500, 1000, 0, 400, 120)  # cached inside prompt, reasoning inside completion
    assert r["reported_cost_usd"] == Decimal("0.012345")
    assert (r["latency_ms"], r["key_alias"]) == (2150, "search-prod")
    assert r["user_hash"] == user_hash("customer-42")
    assert r["labels"] == [{"key": "app", "value": "Answer Bot"}]


def test_openrouter_cancelled_is_billed_ok_and_error_finish_is_error():
    kept, _, _ = ingest(openrouter, "activity.csv")
    r = row(kept, "gen-1782618500-AbCdEfGhIjKlMnOpQrSt")
    assert (r["provider"], r["vendor"], r["model"], r["status"]) == (
        "openrouter",
        "google",
        "google/gemini-2.5-flash",
        "error",
    )
    assert r["reported_cost_usd"] == Decimal("0") and r["user_hash"] is None and r["labels"] == []


def test_openrouter_generation_api_prefers_native_token_counts():
    kept, quarantine, counts = ingest(openrouter, "generation.json")
    assert quarantine.height == 0 and counts.read == 1
    r = row(kept, "gen-1782700000-ApiResponseXyZ0123")
    assert (r["provider"], r["vendor"], r["model"]) == ("openrouter", "openai", "openai/gpt-4o")
    assert tokens(r) == (1200, 1024, 0, 250, 100)  # native, not the normalized 1180/260
    assert r["ts"] == datetime(2026, 6, 29, 12, 0, 0, 250000, tzinfo=timezone.utc)
    assert (r["reported_cost_usd"], r["latency_ms"]) == (Decimal("0.00081"), 850)
    assert r["user_hash"] == user_hash("customer-7")


def test_openrouter_normalized_counts_are_the_fallback_and_usage_is_the_cost_fallback():
    kept, _, _ = ingest(openrouter, "generations.jsonl")
    r = row(kept, "gen-normalized-only")
    assert (r["provider"], r["vendor"], r["model"]) == ("openrouter", "mistralai", "mistralai/mistral-large")
    assert tokens(r) == (70, 0, 0, 30, 0) and r["reported_cost_usd"] == Decimal("0.0004")


def test_openrouter_cached_above_prompt_means_prompt_excluded_cache():
    kept, _, _ = ingest(openrouter, "generations.jsonl")
    r = row(kept, "gen-top-level")  # also: fields at top level, no `data` wrapper
    assert (r["provider"], r["vendor"], r["model"]) == ("openrouter", "anthropic", "anthropic/claude-3.5-haiku")
    assert tokens(r) == (2010, 2000, 0, 8, 0)


def test_openrouter_malformed_line_quarantined_duplicate_id_dedups():
    kept, quarantine, counts = ingest(openrouter, "generations.jsonl")
    assert sorted(kept["event_id"].to_list()) == ["gen-a", "gen-normalized-only", "gen-top-level"]
    assert dict(zip(quarantine["line"].to_list(), quarantine["reason"].to_list())) == {
        2: "malformed_json",
        6: "bad_token_count",
    }
    assert tally(counts) == (6, 3, 2, 1, 0)
    r = row(kept, "gen-a")
    assert r["ts"] == datetime(2026, 6, 29, 12, 0, tzinfo=timezone.utc)
    assert (r["provider"], r["vendor"], tokens(r)) == ("openrouter", "x-ai", (90, 0, 0, 25, 5))


def test_openrouter_sniff_claims_its_files_and_not_langfuse():
    for name in ("activity.csv", "generation.json", "generations.jsonl"):
        path = FIXTURES / "openrouter" / name
        head = path.read_bytes()[:65536]
        assert openrouter.sniff(path, head) and not langfuse.sniff(path, head), name
        assert detect(path) == "openrouter"
    for name in ("observations.jsonl", "snake_export.json"):
        assert detect(FIXTURES / "langfuse" / name) == "langfuse"


def test_gateway_sniffs_never_claim_another_formats_fixture():
    others = [p for p in FIXTURES.glob("*/*") if p.is_file() and p.parent.name not in ("langfuse", "openrouter")]
    assert len(others) > 40
    for path in others:
        head = path.read_bytes()[:65536]
        assert not openrouter.sniff(path, head), path
        assert not langfuse.sniff(path, head), path
