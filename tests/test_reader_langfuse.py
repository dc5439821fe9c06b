"""Langfuse observations export: GENERATION filter, usage-key conventions, costs, labels, bad rows."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timezone
from decimal import Decimal

import polars as pl
from readers import FIXTURES, ingest, tally

from tokenomics.sources import langfuse, openrouter


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


def test_langfuse_only_generations_are_kept_other_observations_skipped_and_counted():
    kept, _, counts = ingest(langfuse, "observations.jsonl")
    assert sorted(kept["event_id"].to_list()) == ["gen-anthropic", "gen-legacy", "gen-openai", "gen-otel"]
    assert tally(counts) == (6, 4, 0, 0, 2)


def test_langfuse_disjoint_usage_keys_are_summed_into_inclusive_columns():
    kept, _, _ = ingest(langfuse, "observations.jsonl")
    r = row(kept, "gen-openai")
    assert tokens(r) == (800 + 200, 200, 0, 150 + 50, 50)  # total 1200 = sum of disjoint keys


def test_langfuse_anthropic_keys_without_total_read_as_disjoint():
    kept, _, _ = ingest(langfuse, "observations.jsonl")
    assert tokens(row(kept, "gen-anthropic")) == (50 + 1000 + 300, 1000, 300, 100, 0)


def test_langfuse_total_equal_to_input_plus_output_means_already_inclusive():
    kept, _, _ = ingest(langfuse, "observations.jsonl")
    assert tokens(row(kept, "gen-otel")) == (1000, 400, 0, 100, 0)


def test_langfuse_deprecated_usage_object_and_vendor_prefixed_model():
    kept, _, _ = ingest(langfuse, "observations.jsonl")
    r = row(kept, "gen-legacy")
    assert tokens(r) == (10, 0, 0, 20, 0)
    assert (r["provider"], r["model"]) == ("openai", "gpt-4o-mini")
    assert r["ts"] == datetime(2025, 3, 1, 10, 5, tzinfo=timezone.utc)  # naive means UTC
    assert r["reported_cost_usd"] == Decimal("0.00002")


def test_langfuse_maps_cost_status_latency_time_user_and_labels():
    kept, _, _ = ingest(langfuse, "observations.jsonl")
    r = row(kept, "gen-openai")
    assert (r["provider"], r["model"], r["status"], r["requests"]) == ("openai", "gpt-4o", "ok", 1)
    assert r["ts"] == datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert r["latency_ms"] == 1234  # latency is seconds
    assert r["reported_cost_usd"] == Decimal("0.0042")  # costDetails.total
    assert r["user_hash"] == user_hash("customer-42")
    assert r["labels"] == [{"key": "feature", "value": "search"}, {"key": "env", "value": "prod"}]
    failed = row(kept, "gen-anthropic")
    assert (failed["provider"], failed["status"]) == ("anthropic", "error")
    assert failed["ts"] == datetime(2025, 3, 1, 9, 0, 2, tzinfo=timezone.utc)
    assert failed["reported_cost_usd"] == Decimal("0.000123")  # calculatedTotalCost, float artefact gone
    assert row(kept, "gen-otel")["reported_cost_usd"] == Decimal("0.0003")


def test_langfuse_bodies_and_personal_ids_never_reach_rows_or_quarantine():
    for name in ("observations.jsonl", "bad_rows.jsonl", "snake_export.json"):
        kept, quarantine, _ = ingest(langfuse, name)
        text = kept.write_ndjson() + quarantine.write_ndjson()
        for secret in (
            "SECRET-PROMPT-BODY",
            "SECRET-RESPONSE-BODY",
            "someone@example.com",
            "customer-42",
            "customer-7",
            "overloaded",
        ):
            assert secret not in text, (name, secret)


def test_langfuse_snake_case_blob_export():
    kept, _, _ = ingest(langfuse, "snake_export.json")
    r = row(kept, "snake-1")
    assert (r["provider"], r["model"]) == ("google_ai", "gemini-2.0-flash")
    assert tokens(r) == (400, 100, 0, 40, 0)
    assert r["reported_cost_usd"] == Decimal("0.00005")
    assert r["user_hash"] == user_hash("customer-7")


def test_langfuse_malformed_line_and_bad_rows_are_quarantined_duplicate_dedups():
    kept, quarantine, counts = ingest(langfuse, "bad_rows.jsonl")
    assert sorted(kept["event_id"].to_list()) == ["ok-1", "ok-2"]
    assert dict(zip(quarantine["line"].to_list(), quarantine["reason"].to_list())) == {
        2: "malformed_json",
        3: "bad_token_count",
        4: "unparseable_timestamp",
        6: "missing_model",
    }
    assert tally(counts) == (7, 2, 4, 1, 0)
    assert row(kept, "ok-1")["ts"] == datetime(2025, 3, 1, 11, 0, tzinfo=timezone.utc)  # first kept


def test_langfuse_observation_without_type_is_a_generation_and_float_count_is_integer():
    kept, _, _ = ingest(langfuse, "bad_rows.jsonl")
    r = row(kept, "ok-2")
    assert (r["provider"], r["input_tokens"], r["output_tokens"]) == ("anthropic", 7, 3)


def test_langfuse_small_chunks_give_the_same_rows():
    whole, _, _ = ingest(langfuse, "bad_rows.jsonl")
    chunked, quarantine, _ = ingest(langfuse, "bad_rows.jsonl", chunk_rows=2)
    assert chunked.sort("event_id").equals(whole.sort("event_id")) and quarantine.height == 4


def test_langfuse_sniff_claims_its_exports_and_no_other_format():
    for name in ("observations.jsonl", "bad_rows.jsonl", "snake_export.json"):
        path = FIXTURES / "langfuse" / name
        assert langfuse.sniff(path, path.read_bytes()[:65536]), name
        assert not openrouter.sniff(path, path.read_bytes()[:65536]), name


def test_langfuse_ingestion_batch_reads_generation_create_bodies():
    kept, quarantine, counts = ingest(langfuse, "ingestion_batch.json")
    assert sorted(kept["event_id"].to_list()) == ["chatcmpl-batch-1", "chatcmpl-batch-2"]
    r = row(kept, "chatcmpl-batch-1")
    assert (r["provider"], r["model"], r["status"]) == ("openai", "gpt-4o", "ok")
    assert tokens(r) == (1200, 200, 0, 300, 0)
    assert r["ts"] == datetime(2025, 3, 3, 9, 0, 0, 100000, tzinfo=timezone.utc)
    assert r["reported_cost_usd"] == Decimal("0.00575")
    assert "missing_event_id" not in quarantine["reason"].to_list()


def test_langfuse_ingestion_update_fills_its_create_and_trace_lends_user_and_tags():
    kept, _, _ = ingest(langfuse, "ingestion_batch.json")
    r = row(kept, "chatcmpl-batch-2")
    assert tokens(r) == (40 + 500, 500, 0, 60, 0) and r["status"] == "error"
    assert r["reported_cost_usd"] == Decimal("0.00123")
    assert r["user_hash"] == user_hash("customer-9") and r["request_tags"] == ["team:search"]
    assert {"key": "team", "value": "search"} in r["labels"]


def test_langfuse_ingestion_batch_counts_every_event_and_names_orphan_updates():
    _, quarantine, counts = ingest(langfuse, "ingestion_batch.json")
    # 7 events: 2 generations kept, 1 orphan update quarantined, trace/span/sdk-log + 1 merged update skipped
    assert tally(counts) == (7, 2, 1, 0, 4)
    assert quarantine["reason"].to_list() == ["orphan_generation_update"]


def test_langfuse_keys_never_reach_quarantine_raw_or_labels():
    kept, quarantine, _ = ingest(langfuse, "ingestion_batch.json")
    stored = " ".join(quarantine["raw"].to_list()) + str(kept.to_dicts())
    assert "pk-lf-" not in stored and "public_key" not in stored


def test_public_keys_and_key_named_values_are_secrets(tmp_path):
    path = tmp_path / "obs.jsonl"
    path.write_text(
        '{"traceId": "t", "startTime": "2025-03-01T10:00:00Z", "model": "gpt-4o", "type": "GENERATION",'
        ' "metadata": {"public_key": "abc123", "publicKey": "def456", "team": "pk-lf-0123456789abcdef"}}\n'
    )
    from tokenomics.ingest import normalize_file

    _, quarantine, _ = normalize_file("langfuse", path)
    (raw,) = quarantine["raw"].to_list()  # no id: quarantined with its labels in raw
    assert "missing_event_id" == quarantine["reason"][0]
    assert "abc123" not in raw and "def456" not in raw and "pk-lf-0123456789abcdef" not in raw
