"""Helicone request exports: formats.md section 9.1 traps, asserted on rows after normalize."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timezone
from decimal import Decimal

import polars as pl
import pytest

from tests.readers import FIXTURES, ingest, tally
from tokenomics.sources import detect, helicone

OWN = ("requests.jsonl", "bad_rows.jsonl", "api_answer.json")
GATEWAY_SOURCES = ("helicone", "portkey", "cloudflare")


def row(kept: pl.DataFrame, event_id: str) -> dict:
    (found,) = kept.filter(pl.col("event_id") == event_id).to_dicts()
    return found


def user_hash(user: str) -> str:
    return hmac.new(os.environ["TOKENOMICS_HMAC_KEY"].encode(), user.encode(), hashlib.sha256).hexdigest()[:32]


def test_helicone_openai_row_maps_every_column():
    kept, quarantine, counts = ingest(helicone, "requests.jsonl")
    assert quarantine.height == 0
    r = row(kept, "h-1")
    assert r["ts"] == datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert (r["provider"], r["model"], r["status"], r["latency_ms"]) == ("openai", "gpt-4o-2024-08-06", "ok", 812)
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"], r["output_tokens"]) == (
        1200,
        1024,
        0,
        300,
    )
    assert r["user_hash"] == user_hash("customer-9")
    assert r["reported_cost_usd"] == Decimal("0.00054")  # costUSD wins over the nano-dollar cost


def test_helicone_properties_become_labels_without_prefix_or_secrets_and_team_hint():
    kept, _, _ = ingest(helicone, "requests.jsonl")
    assert row(kept, "h-1")["labels"] == [{"key": "Team", "value": "search"}, {"key": "Feature", "value": "answer-gen"}]
    assert row(kept, "h-1")["gateway_team"] == "search"
    assert row(kept, "h-2")["gateway_team"] == "legal"


def test_helicone_anthropic_prompt_tokens_exclude_cache_so_input_adds_them():
    kept, _, _ = ingest(helicone, "requests.jsonl")
    r = row(kept, "h-2")
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (12 + 2495 + 100, 2495, 100)


def test_helicone_clickhouse_integer_cost_is_nano_dollars_decimal_cost_is_dollars():
    kept, _, _ = ingest(helicone, "requests.jsonl")
    assert row(kept, "h-2")["reported_cost_usd"] == Decimal("0.0031")
    assert row(kept, "h-3")["reported_cost_usd"] == Decimal("0.25")


def test_helicone_http_error_and_negative_sentinel_are_errors():
    kept, _, _ = ingest(helicone, "requests.jsonl")
    assert (row(kept, "h-2")["status"], row(kept, "h-3")["status"]) == ("error", "error")
    assert row(kept, "h-3")["latency_ms"] == 33


def test_helicone_model_override_wins_and_offset_time_becomes_utc():
    kept, _, _ = ingest(helicone, "requests.jsonl")
    r = row(kept, "h-3")
    assert (r["model"], r["provider"]) == ("gpt-4o-mini-custom", "azure_openai")
    assert r["ts"] == datetime(2025, 3, 1, 8, 6, tzinfo=timezone.utc)
    assert row(kept, "h-2")["ts"] == datetime(2025, 3, 1, 10, 5, tzinfo=timezone.utc)  # naive = UTC


def test_helicone_cache_hit_is_skipped_and_counted():
    kept, _, counts = ingest(helicone, "requests.jsonl")
    assert sorted(kept["event_id"].to_list()) == ["h-1", "h-2", "h-3"]
    assert tally(counts) == (4, 3, 0, 0, 1)


def test_helicone_bodies_and_secrets_never_reach_rows_or_quarantine():
    for name in OWN:
        kept, quarantine, _ = ingest(helicone, name)
        text = kept.write_ndjson() + quarantine.write_ndjson()
        for secret in ("SECRET-PROMPT-BODY", "SECRET-RESPONSE-BODY", "sk-abcdefgh12345678", "customer-9"):
            assert secret not in text, (name, secret)


def test_helicone_malformed_line_is_quarantined_and_duplicate_keeps_the_first():
    kept, quarantine, counts = ingest(helicone, "bad_rows.jsonl")
    assert kept["event_id"].to_list() == ["h-10"]
    assert row(kept, "h-10")["ts"] == datetime(2025, 3, 2, 9, 0, tzinfo=timezone.utc)
    assert row(kept, "h-10")["input_tokens"] == 120  # "120.0"
    assert dict(zip(quarantine["line"].to_list(), quarantine["reason"].to_list())) == {
        2: "malformed_json",
        3: "negative_tokens",
        5: "unparseable_timestamp",
        6: "bad_token_count",
        7: "bad_reported_cost",
    }
    assert tally(counts) == (7, 1, 5, 1, 0)


def test_helicone_api_answer_data_envelope():
    kept, _, counts = ingest(helicone, "api_answer.json")
    assert kept["event_id"].to_list() == ["h-api-1", "h-api-2"]
    assert kept["reported_cost_usd"].to_list() == [Decimal("0.000045"), Decimal("0.0004")]
    assert row(kept, "h-api-2")["input_tokens"] == 300
    assert counts.read == 2


def test_helicone_small_chunks_give_the_same_rows():
    whole, _, _ = ingest(helicone, "bad_rows.jsonl")
    chunked, quarantine, _ = ingest(helicone, "bad_rows.jsonl", chunk_rows=2)
    assert chunked.equals(whole) and quarantine.height == 5


@pytest.mark.parametrize("source", GATEWAY_SOURCES)
def test_gateway_fixture_is_detected_as_its_own_source_only(source):
    for path in sorted((FIXTURES / source).iterdir()):
        assert detect(path) == source, path


def test_gateway_sniffers_claim_no_other_fixture():
    from tokenomics.sources import cloudflare, portkey

    for path in sorted(FIXTURES.glob("*/*")):
        if path.parent.name in GATEWAY_SOURCES or not path.is_file():
            continue
        head = path.read_bytes()[:65536]
        for reader in (helicone, portkey, cloudflare):
            assert not reader.sniff(path, head), (reader.SOURCE, path)
