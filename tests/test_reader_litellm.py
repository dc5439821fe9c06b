"""LiteLLM spend logs: every trap of formats.md section 7, asserted on rows after normalize."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tokenomics.ingest import normalize_file
from tokenomics.sources import litellm
from tokenomics.sources.normalize import FileCounts, ReaderError

FIXTURES = Path(__file__).parent / "fixtures" / "litellm"


def ingest(name: str, chunk_rows: int = 200_000) -> tuple[pl.DataFrame, pl.DataFrame, FileCounts]:
    """Read + normalize + dedup one fixture the way the pipeline does: kept rows, quarantine, counts."""
    return normalize_file("litellm", FIXTURES / name, chunk_rows=chunk_rows)


def row(kept: pl.DataFrame, event_id: str) -> dict:
    (found,) = kept.filter(pl.col("event_id") == event_id).to_dicts()
    return found


def user_hash(user: str) -> str:
    return hmac.new(os.environ["TOKENOMICS_HMAC_KEY"].encode(), user.encode(), hashlib.sha256).hexdigest()[:32]


def test_litellm_payload_with_json_string_metadata_maps_every_column():
    kept, quarantine, counts = ingest("spend_logs_payload.jsonl")
    assert quarantine.height == 0 and counts.balanced
    r = row(kept, "chatcmpl-0001")
    assert r["ts"] == datetime(2025, 1, 24, 9, 20, 46, 847371, tzinfo=timezone.utc)
    assert (r["provider"], r["model"], r["status"], r["requests"]) == ("openai", "gpt-4o", "ok", 1)
    assert (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (10, 20, 0, 0)
    assert r["latency_ms"] == 504
    assert r["api_key_id"] == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert r["request_tags"] == [] and r["labels"] == []
    assert r["user_hash"] is None and r["gateway_team"] is None
    assert r["team"] is None and r["cost_usd"] is None and r["model_id"] is None


def test_litellm_naive_start_time_means_utc():
    kept, _, _ = ingest("spend_logs_payload.jsonl")
    assert kept["ts"].dtype == pl.Datetime("us", "UTC")
    assert kept["ts"][0].isoformat() == "2025-01-24T09:20:46.847371+00:00"
    assert kept["day"].to_list() == [datetime(2025, 1, 24).date()]


def test_litellm_spend_float_artefact_becomes_exact_decimal():
    kept, _, _ = ingest("spend_logs_payload.jsonl")
    assert kept["reported_cost_usd"].dtype == pl.Decimal(38, 12)
    assert kept["reported_cost_usd"].to_list() == [Decimal("0.000225000000")]


def test_litellm_postgres_export_with_real_json_objects_and_lists():
    kept, quarantine, _ = ingest("postgres_export.jsonl")
    assert quarantine.height == 0
    r = row(kept, "chatcmpl-0002")
    assert r["ts"] == datetime(2025, 1, 24, 9, 20, 46, 847371, tzinfo=timezone.utc)
    assert r["latency_ms"] == 1000  # endTime carried +02:00
    assert r["request_tags"] == ["feature:answer-gen", "env:prod"]
    assert (r["gateway_team"], r["key_alias"], r["project"]) == ("team-7f3a", "search-prod", "proj-42")
    assert (r["input_tokens"], r["cache_read_tokens"], r["output_tokens"]) == (1200, 1024, 300)
    assert r["reported_cost_usd"] == Decimal("0.00054")
    assert r["user_hash"] == user_hash("customer-42")


def test_litellm_labels_are_string_values_of_spend_logs_metadata_without_secrets_or_personal_ids():
    kept, _, _ = ingest("postgres_export.jsonl")
    assert kept["labels"].to_list() == [[{"key": "feature", "value": "answer-gen"}, {"key": "env", "value": "prod"}]]


def test_litellm_anthropic_prompt_tokens_include_cache():
    kept, quarantine, _ = ingest("anthropic_cache.jsonl")
    assert quarantine.height == 0
    r = row(kept, "msg-current")
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (98805, 66360, 32435)
    assert (r["output_tokens"], r["reasoning_tokens"]) == (500, 120)


def test_litellm_anthropic_prompt_tokens_that_left_out_cache_writes_are_completed():
    kept, _, _ = ingest("anthropic_cache.jsonl")
    r = row(kept, "msg-reads-only")
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (31 + 1253, 0, 1253)


def test_litellm_anthropic_messages_prompt_tokens_exclude_cache():
    kept, _, _ = ingest("anthropic_cache.jsonl")
    for event_id in ("msg-messages-api", "msg-top-level-excludes"):
        r = row(kept, event_id)
        assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (12 + 2495 + 100, 2495, 100)


def test_litellm_cache_hit_string_true_is_skipped_and_counted():
    kept, _, counts = ingest("cache_hit.jsonl")
    assert sorted(kept["event_id"].to_list()) == ["req-miss", "req-off"]
    assert (counts.read, counts.kept, counts.skipped) == (3, 2, 1) and counts.balanced


def test_litellm_standard_logging_payload_epoch_time_failure_status_and_raw_key():
    kept, quarantine, _ = ingest("standard_logging_payload.jsonl")
    assert quarantine.height == 0
    r = row(kept, "chatcmpl-slp-1")
    assert r["ts"] == datetime(2025, 1, 24, 9, 20, 46, 847371, tzinfo=timezone.utc)
    assert (r["status"], r["provider"], r["latency_ms"]) == ("error", "aws_bedrock", 252)
    assert r["reported_cost_usd"] == Decimal("0.0031")
    assert r["api_key_id"] == hashlib.sha256(b"sk-1234567890abcdef").hexdigest()
    assert (r["gateway_team"], r["key_alias"]) == ("legal", "legal-batch")
    assert r["user_hash"] == user_hash("customer-7")
    assert r["request_tags"] == ["team:legal"]
    assert r["labels"] == [{"key": "feature", "value": "contract-review"}]


def test_litellm_batch_call_type_is_batch():
    kept, _, _ = ingest("standard_logging_payload.jsonl")
    assert row(kept, "batch-1")["is_batch"] is True
    assert row(kept, "chatcmpl-slp-1")["is_batch"] is False


def test_litellm_raw_secret_key_and_bodies_never_reach_rows_or_quarantine():
    names = ("standard_logging_payload.jsonl", "spend_logs_payload.jsonl", "spend_logs.csv", "postgres_export.jsonl")
    for name in names:
        kept, quarantine, _ = ingest(name)
        text = kept.write_ndjson() + quarantine.write_ndjson()
        for secret in (
            "sk-1234567890abcdef",
            "SECRET-PROMPT-BODY",
            "SECRET-RESPONSE-BODY",
            "sk-should-not",
            "someone@example.com",
            "customer-42",
            "customer-7",
            "internal-user-7",
        ):
            assert secret not in text, (name, secret)


def test_litellm_malformed_line_is_quarantined_and_rest_lands():
    kept, quarantine, counts = ingest("bad_rows.jsonl")
    assert sorted(kept["event_id"].to_list()) == ["ok-1", "ok-2"]
    assert dict(zip(quarantine["line"].to_list(), quarantine["reason"].to_list())) == {
        2: "malformed_json",
        3: "negative_tokens",
        4: "missing_timestamp",
        5: "cache_exceeds_input",
        7: "unparseable_timestamp",
        8: "malformed_metadata",
        9: "bad_token_count",
    }
    assert (counts.read, counts.kept, counts.quarantined, counts.deduplicated) == (10, 2, 7, 1)
    assert counts.balanced


def test_litellm_duplicate_request_id_keeps_the_first():
    kept, _, _ = ingest("bad_rows.jsonl")
    assert row(kept, "ok-1")["ts"] == datetime(2025, 1, 24, 10, 0, tzinfo=timezone.utc)


def test_litellm_float_formatted_token_count_is_an_integer():
    kept, _, _ = ingest("bad_rows.jsonl")
    assert row(kept, "ok-2")["input_tokens"] == 120


def test_litellm_csv_export_with_json_columns_as_text():
    kept, quarantine, counts = ingest("spend_logs.csv")
    assert quarantine.height == 0 and counts.read == 2
    r = row(kept, "chatcmpl-csv-1")
    assert r["ts"] == datetime(2025, 1, 24, 9, 20, 46, 847000, tzinfo=timezone.utc)
    assert (r["input_tokens"], r["cache_read_tokens"], r["output_tokens"], r["latency_ms"]) == (10, 4, 20, 253)
    assert r["reported_cost_usd"] == Decimal("0.000225")
    assert (r["gateway_team"], r["key_alias"]) == ("team-7f3a", "search-prod")
    assert r["request_tags"] == ["feature:answer-gen"]
    assert r["labels"] == [{"key": "feature", "value": "answer-gen"}]
    failed = row(kept, "chatcmpl-csv-2")
    assert (failed["status"], failed["input_tokens"], failed["latency_ms"]) == ("error", 0, 500)


def test_litellm_spend_logs_api_answer_saved_as_a_json_array():
    kept, _, counts = ingest("spend_logs_api.json")
    assert kept["event_id"].to_list() == ["api-1", "api-2"]
    assert kept["ts"].to_list()[1] == datetime(2025, 1, 24, 9, 20, 47, tzinfo=timezone.utc)
    assert counts.read == 2


def test_litellm_small_chunks_give_the_same_rows():
    whole, _, _ = ingest("bad_rows.jsonl")
    chunked, quarantine, counts = ingest("bad_rows.jsonl", chunk_rows=3)
    assert chunked.drop("user_hash").equals(whole.drop("user_hash"))
    assert quarantine.height == 7 and counts.balanced


def test_litellm_undecodable_file_raises_reader_error_naming_the_line(tmp_path):
    path = tmp_path / "spend.jsonl"
    first = b'{"request_id": "a", "call_type": "acompletion", "startTime": "2025-01-24 10:00:00"}\n'
    path.write_bytes(first + b"\x80\x81\x82\n")
    with pytest.raises(ReaderError, match="line 2 of spend.jsonl"):
        list(litellm.read(path))


def test_litellm_sniff_recognizes_json_lines_and_csv_export():
    for name in ("spend_logs_payload.jsonl", "spend_logs.csv", "spend_logs_api.json"):
        path = FIXTURES / name
        assert litellm.sniff(path, path.read_bytes()[:65536]), name
    otlp = Path(__file__).parent / "fixtures" / "otel" / "current_conventions.jsonl"
    assert not litellm.sniff(otlp, otlp.read_bytes()[:65536])
