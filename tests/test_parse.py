"""The one parsing toolkit: each spelling means one value, and every gateway reader accepts the same ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from tokenomics.ingest import normalize_file
from tokenomics.sources.parse import (
    count_text,
    parse_bool,
    parse_count,
    parse_money,
    parse_timestamp,
    text_or_null,
    unparsed,
)

TEN_UTC = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def _values(expr, texts: list[str | None]) -> list:
    return pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(expr(pl.col("t")).alias("t"))["t"].to_list()


def test_every_null_spelling_is_null_and_text_is_trimmed():
    assert _values(text_or_null, ["", "  ", "NULL", "null", "None", "NaN", "N/A", None, " gpt-4o "]) == [
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "gpt-4o",
    ]


def test_timestamp_spellings_of_the_same_instant():
    spellings = [
        "2025-03-01T10:00:00Z",
        "2025-03-01 10:00:00",
        "2025-03-01T10:00:00.000000",
        "2025-03-01 10:00:00 UTC",
        "2025-03-01T12:00:00+02:00",
        "2025-03-01T10:00:00.0000000Z",
        "1740823200",
        "1740823200.0",
    ]
    assert _values(parse_timestamp, spellings) == [TEN_UTC] * len(spellings)


def test_a_date_alone_is_midnight_utc():
    assert _values(parse_timestamp, ["2025-03-01"]) == [datetime(2025, 3, 1, tzinfo=UTC)]


def test_us_dates_only_when_asked_because_a_gateway_slash_date_is_ambiguous():
    texts = ["03/01/2025 10:00:00", "3/1/25", "03/01/2025 10:00:00 AM"]
    assert _values(parse_timestamp, texts) == [None, None, None]
    bills = _values(lambda t: parse_timestamp(t, us_dates=True), texts)
    assert bills == [TEN_UTC, datetime(2025, 3, 1, tzinfo=UTC), TEN_UTC]


def test_booleans_in_any_case_and_garbage_is_null():
    texts = ["true", "TRUE", "True", "t", "1", "yes", "false", "FALSE", "f", "0", "no", "", "None", "maybe"]
    assert _values(parse_bool, texts) == [True] * 6 + [False] * 5 + [None] * 3


def test_counts_accept_float_formatted_integers_only():
    assert _values(parse_count, ["120", "120.0", "1.2e2", " 7 ", "12.5", "many", "N/A"]) == [
        120,
        120,
        120,
        7,
        None,
        None,
        None,
    ]
    assert _values(count_text, ["59200.0", "59200", "12.5"]) == ["59200", "59200", "12.5"]


def test_money_is_exact_and_scaled_without_a_float():
    frame = pl.DataFrame({"t": ['"0.00022500000000000002"', "123.45", "1234500", "lots"]})
    dollars = frame.select(parse_money(pl.col("t")).alias("t"))["t"].to_list()
    assert dollars[:2] == [Decimal("0.000225000000"), Decimal("123.450000000000")]
    assert frame.select(parse_money(pl.col("t"), 1_000_000_000).alias("t"))["t"][2] == Decimal("0.001234500000")
    assert dollars[3] is None


def test_unparsed_names_only_present_values_that_did_not_parse():
    texts = ["12", "twelve", "", None]
    reasons = pl.DataFrame({"t": texts}).select(unparsed(pl.col("t"), parse_count(pl.col("t")), "bad").alias("t"))["t"]
    assert reasons.to_list() == [None, "bad", None, None]


# ---- the same spellings through every gateway reader ------------------------------------------------


def _record(source: str, event_id: str, ts: str, model: str) -> dict:
    return {
        "litellm": {
            "request_id": event_id,
            "call_type": "acompletion",
            "startTime": ts,
            "model": model,
            "custom_llm_provider": "openai",
            "prompt_tokens": 10,
            "completion_tokens": 2,
        },
        "helicone": {
            "request_id": event_id,
            "request_created_at": ts,
            "request_model": model,
            "provider": "OPENAI",
            "prompt_tokens": 10,
            "completion_tokens": 2,
        },
        "portkey": {
            "id": event_id,
            "created_at": ts,
            "ai_org": "openai",
            "ai_model": model,
            "req_units": 10,
            "res_units": 2,
        },
        "cloudflare": {
            "id": event_id,
            "created_at": ts,
            "provider": "openai",
            "model": model,
            "tokens_in": 10,
            "tokens_out": 2,
        },
        "langfuse": {
            "id": event_id,
            "traceId": "t",
            "type": "GENERATION",
            "startTime": ts,
            "model": model,
            "usageDetails": {"input": 10, "output": 2},
        },
        "openrouter": {
            "data": {"id": event_id, "created_at": ts, "model": model, "tokens_prompt": 10, "tokens_completion": 2}
        },
    }[source]


GATEWAYS = ("litellm", "helicone", "portkey", "cloudflare", "langfuse", "openrouter")
TIMESTAMPS = {
    "iso-z": "2025-03-01T10:00:00Z",
    "naive-space": "2025-03-01 10:00:00.000000",
    "offset": "2025-03-01T12:00:00+02:00",
    "utc-suffix": "2025-03-01 10:00:00 UTC",
    "epoch": "1740823200",
    "slash-date": "01/03/2025 10:00",
    "words": "yesterday",
}
NULL_MODELS = ("", "NULL", "null", "None", "NaN", "N/A")


def _read(tmp_path, source: str, records: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    path = tmp_path / f"{source}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    kept, quarantine, counts = normalize_file(source, path)
    assert counts.balanced, counts.as_dict()
    return kept, quarantine


@pytest.mark.parametrize("source", GATEWAYS)
def test_every_gateway_reads_the_same_timestamp_and_null_spellings_the_same_way(tmp_path, source):
    records = [_record(source, name, ts, "gpt-4o") for name, ts in TIMESTAMPS.items()]
    records += [_record(source, f"null-{i}", TIMESTAMPS["iso-z"], model) for i, model in enumerate(NULL_MODELS)]
    kept, quarantine = _read(tmp_path, source, records)
    assert dict(zip(kept["event_id"], kept["ts"], strict=True)) == {
        name: TEN_UTC for name in ("iso-z", "naive-space", "offset", "utc-suffix", "epoch")
    }
    assert quarantine.sort("line")["reason"].to_list() == ["unparseable_timestamp"] * 2 + ["missing_model"] * 6


@pytest.mark.parametrize(("source", "field"), [("litellm", "cache_hit"), ("cloudflare", "cached")])
def test_cache_hit_spellings_skip_the_same_rows_in_every_gateway(tmp_path, source, field):
    spellings = {
        "true": True,
        "True": True,
        "TRUE": True,
        "1": True,
        "yes": True,
        "false": False,
        "False": False,
        "0": False,
        "None": False,
        "": False,
    }
    records = [
        {**_record(source, f"r{i}", TIMESTAMPS["iso-z"], "gpt-4o"), field: text} for i, text in enumerate(spellings)
    ]
    kept, _ = _read(tmp_path, source, records)
    assert sorted(kept["event_id"]) == sorted(f"r{i}" for i, hit in enumerate(spellings.values()) if not hit)


@pytest.mark.parametrize(("source", "field"), [("portkey", "is_success"), ("cloudflare", "success")])
def test_success_flag_spellings_mean_the_same_status_in_every_gateway(tmp_path, source, field):
    spellings = {
        "false": "error",
        "FALSE": "error",
        "0": "error",
        "no": "error",
        "true": "ok",
        "True": "ok",
        "1": "ok",
        "": "ok",
    }
    records = [
        {**_record(source, f"r{i}", TIMESTAMPS["iso-z"], "gpt-4o"), field: text} for i, text in enumerate(spellings)
    ]
    kept, _ = _read(tmp_path, source, records)
    assert dict(zip(kept["event_id"], kept["status"], strict=True)) == {
        f"r{i}": status for i, status in enumerate(spellings.values())
    }
