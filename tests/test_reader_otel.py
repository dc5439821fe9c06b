"""OTLP/JSON GenAI spans: every trap of formats.md section 8, asserted on rows after normalize."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from tokenomics.ingest import normalize_file
from tokenomics.sources import otel
from tokenomics.sources.normalize import FileCounts, ReaderError

FIXTURES = Path(__file__).parent / "fixtures" / "otel"


def ingest(name: str) -> tuple[pl.DataFrame, pl.DataFrame, FileCounts]:
    """Read + normalize + dedup one fixture the way the pipeline does: kept rows, quarantine, counts."""
    return normalize_file("otel", FIXTURES / name)


def row(kept: pl.DataFrame, event_id: str) -> dict:
    (found,) = kept.filter(pl.col("event_id") == event_id).to_dicts()
    return found


def test_otel_current_conventions_map_every_column():
    kept, quarantine, counts = ingest("current_conventions.jsonl")
    assert quarantine.height == 0
    r = row(kept, "chatcmpl-otel-1")
    assert r["ts"] == datetime(2025, 1, 24, 9, 20, 46, 847371, tzinfo=timezone.utc)
    assert (r["provider"], r["model"], r["status"], r["latency_ms"]) == ("openai", "gpt-4o-2024-08-06", "ok", 1250)
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (120, 64, 16)
    assert (r["output_tokens"], r["reasoning_tokens"], r["requests"]) == (42, 10, 1)
    assert (r["service_tier"], r["project"]) == ("priority", "123456789012")
    expected_user = hmac.new(os.environ["TOKENOMICS_HMAC_KEY"].encode(), b"customer-42", hashlib.sha256)
    assert r["user_hash"] == expected_user.hexdigest()[:32]


def test_otel_int_value_as_string_or_number():
    kept, _, _ = ingest("current_conventions.jsonl")
    r = row(kept, "chatcmpl-otel-1")
    # input_tokens {"intValue": "120"} and output_tokens {"intValue": 42}
    assert (r["input_tokens"], r["output_tokens"]) == (120, 42)
    kept, _, _ = ingest("deprecated_conventions.jsonl")
    # startTimeUnixNano as a bare JSON number, cache_creation as a doubleValue
    r = row(kept, "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331")
    assert r["ts"] == datetime(2025, 1, 24, 9, 20, 46, 847371, tzinfo=timezone.utc)
    assert r["cache_write_tokens"] == 300


def test_otel_non_llm_spans_are_skipped_and_counted():
    kept, _, counts = ingest("current_conventions.jsonl")
    assert kept.height == 1
    assert (counts.read, counts.kept, counts.skipped, counts.quarantined) == (2, 1, 1, 0) and counts.balanced


def test_otel_labels_keep_resource_and_span_strings_but_no_body_secret_or_user():
    kept, _, _ = ingest("current_conventions.jsonl")
    labels = {d["key"]: d["value"] for d in row(kept, "chatcmpl-otel-1")["labels"]}
    assert labels == {
        "service.name": "support-bot",
        "deployment.environment.name": "prod",
        "cloud.account.id": "123456789012",
        "telemetry.sdk.language": "python",
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.id": "chatcmpl-otel-1",
        "openai.response.service_tier": "priority",
        "app.feature": "chat-assistant",
    }


def test_otel_bodies_secrets_and_user_ids_never_reach_rows_or_quarantine():
    for name in ("current_conventions.jsonl", "deprecated_conventions.jsonl", "bad_spans.jsonl"):
        kept, quarantine, _ = ingest(name)
        text = kept.write_ndjson() + quarantine.write_ndjson()
        for secret in (
            "SECRET-PROMPT-BODY",
            "SECRET-RESPONSE-BODY",
            "SECRET-SYSTEM-PROMPT",
            "SECRET-TOOL",
            "SECRETKEY",
            "customer-42",
        ):
            assert secret not in text, (name, secret)


def test_otel_deprecated_names_gen_ai_system_prompt_and_completion_tokens():
    kept, quarantine, _ = ingest("deprecated_conventions.jsonl")
    assert quarantine.height == 0
    r = row(kept, "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331")
    assert (r["provider"], r["model"]) == ("anthropic", "claude-3-5-haiku-20241022")
    assert (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"]) == (2000, 150, 1500)


def test_otel_current_name_wins_over_deprecated_one():
    kept, _, _ = ingest("deprecated_conventions.jsonl")
    r = row(kept, "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203332")
    assert (r["provider"], r["input_tokens"], r["output_tokens"]) == ("aws_bedrock", 900, 90)


def test_otel_event_id_is_response_id_else_lowercase_trace_and_span_id():
    kept, _, _ = ingest("status_and_ids.jsonl")
    assert kept["event_id"].to_list() == [
        "abcdef0123456789abcdef0123456789-00000000000000a2",
        "abcdef0123456789abcdef0123456789-00000000000000a3",
        "abcdef0123456789abcdef0123456789-00000000000000a4",
    ]


def test_otel_status_code_2_is_error_and_failed_llm_call_without_usage_is_kept():
    kept, _, _ = ingest("status_and_ids.jsonl")
    statuses = dict(zip(kept["event_id"].str.slice(-2).to_list(), kept["status"].to_list()))
    assert statuses == {"a2": "ok", "a3": "error", "a4": "error"}
    failed = row(kept, "abcdef0123456789abcdef0123456789-00000000000000a3")
    assert (failed["input_tokens"], failed["output_tokens"]) == (0, 0)


def test_otel_agent_span_usage_is_not_counted_twice():
    kept, _, counts = ingest("status_and_ids.jsonl")
    # invoke_agent (usage = its child's) and execute_tool are skipped; the child chat span is kept
    assert kept.filter(pl.col("status") == "ok")["input_tokens"].to_list() == [300]
    assert (counts.read, counts.kept, counts.skipped) == (5, 3, 2) and counts.balanced


def test_otel_malformed_line_is_quarantined_and_rest_lands():
    kept, quarantine, counts = ingest("bad_spans.jsonl")
    assert kept["event_id"].to_list() == ["resp-ok"]
    reasons = quarantine.select("line", "reason").sort("line", "reason").rows()
    assert reasons == [
        (1, "negative_tokens"),
        (2, "malformed_json"),
        (3, "cache_exceeds_input"),
        (3, "missing_timestamp"),
        (3, "unparseable_timestamp"),
    ]
    assert (counts.read, counts.kept, counts.quarantined, counts.deduplicated) == (7, 1, 5, 1)
    assert counts.balanced


def test_otel_pretty_printed_document_is_read():
    kept, _, counts = ingest("pretty_document.json")
    r = row(kept, "5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174")
    assert r["ts"] == datetime(2018, 12, 13, 14, 51, tzinfo=timezone.utc)
    assert (r["input_tokens"], r["cache_read_tokens"], r["output_tokens"]) == (120, 64, 42)
    assert counts.read == 1


def test_otel_span_attribute_wins_over_the_same_resource_attribute(tmp_path):
    path = tmp_path / "traces.jsonl"
    path.write_text(
        '{"resourceSpans": [{"resource": {"attributes": [{"key": "gen_ai.project", "value": {"stringValue": "res"}}]},'
        ' "scopeSpans": [{"spans": [{"traceId": "aa", "spanId": "bb", "startTimeUnixNano": "1737710446000000000",'
        ' "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},'
        ' {"key": "gen_ai.project", "value": {"stringValue": "span"}},'
        ' {"key": "gen_ai.usage.input_tokens", "value": {"intValue": 5}}]}]}]}]}\n'
    )
    (staged,) = otel.read(path)
    assert staged.frame.select("event_id", "project", "input_tokens").rows() == [("aa-bb", "span", 5)]


def test_otel_line_without_spans_yields_nothing(tmp_path):
    path = tmp_path / "traces.jsonl"
    path.write_text('{"resourceSpans": []}\n{"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": []}]}]}\n')
    staged = list(otel.read(path))
    assert sum(s.frame.height + s.skipped for s in staged) == 0


def test_otel_file_that_is_not_json_raises_reader_error(tmp_path):
    path = tmp_path / "traces.jsonl"
    path.write_text("traceId,spanId\n1,2\n")
    with pytest.raises(ReaderError, match="line 1 of traces.jsonl"):
        list(otel.read(path))


def test_otel_sniff_recognizes_otlp_json_only():
    for name in ("current_conventions.jsonl", "pretty_document.json"):
        path = FIXTURES / name
        assert otel.sniff(path, path.read_bytes()[:65536]), name
    spend_log = Path(__file__).parent / "fixtures" / "litellm" / "spend_logs_payload.jsonl"
    assert not otel.sniff(spend_log, spend_log.read_bytes()[:65536])
