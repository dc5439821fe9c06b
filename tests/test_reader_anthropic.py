"""Anthropic usage and cost report readers: Admin API pages through normalize."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.readers import FIXTURES, ingest, tally
from tokenomics import schema
from tokenomics.sources import anthropic_cost, anthropic_usage, openai_costs, openai_usage
from tokenomics.sources.normalize import ReaderError

READERS = (openai_usage, openai_costs, anthropic_usage, anthropic_cost)
DAY1 = dt.date(2025, 11, 1)


# ---- anthropic_usage ------------------------------------------------------------------------------


def test_anthropic_usage_input_is_uncached_plus_cache_read_plus_cache_writes():
    kept, _, counts = ingest(anthropic_usage, "usage_report.json")
    assert tally(counts) == (2, 2, 0, 0, 0)
    standard, batch = kept.sort("service_tier", descending=True).rows(named=True)
    # 1500 uncached + 200 cache read + 500 (5m) + 1000 (1h) writes; web_search_requests are not tokens
    assert (standard["input_tokens"], standard["cache_read_tokens"], standard["cache_write_tokens"]) == (
        3200,
        200,
        1500,
    )
    assert (standard["output_tokens"], standard["reasoning_tokens"]) == (500, 0)
    assert (standard["day"], standard["provider"], standard["sub_account_id"], standard["api_key_id"]) == (
        DAY1,
        "anthropic",
        "wrkspc_01Alpha",
        "apikey_01Alpha",
    )
    assert (standard["model"], standard["is_batch"]) == ("claude-sonnet-4-20250514", False)
    assert (batch["service_tier"], batch["is_batch"], batch["input_tokens"]) == ("batch", True, 4000)


def test_anthropic_usage_reports_no_requests():
    kept, _, _ = ingest(anthropic_usage, "usage_report.json")
    assert kept["requests"].to_list() == [0, 0]  # not reported by Anthropic: normalize stores 0


def test_anthropic_usage_null_workspace_is_default_only_when_grouped_by_workspace():
    kept, _, counts = ingest(anthropic_usage, "default_workspace.json")
    assert tally(counts) == (3, 3, 0, 0, 0)
    by_input = dict(zip(kept["input_tokens"], kept["sub_account_id"]))
    assert by_input == {100: "wrkspc_01Team", 200: "default", 300: None}
    # group-by fields that were not grouped stay null
    assert kept["model"].null_count() == 3 and kept["api_key_id"].null_count() == 3


def test_anthropic_usage_empty_buckets_read_nothing():
    kept, _, counts = ingest(anthropic_usage, "empty_buckets.json")
    assert tally(counts) == (1, 1, 0, 0, 0)
    assert kept["day"].to_list() == [dt.date(2025, 11, 2)]


def test_anthropic_usage_paginated_jsonl_dedups_redelivered_page():
    kept, _, counts = ingest(anthropic_usage, "paginated.jsonl")
    assert tally(counts) == (3, 2, 0, 1, 0)
    # hourly buckets, one spelled with Z and one with +00:00, both on the same UTC day
    assert kept["day"].to_list() == [DAY1, DAY1]
    assert kept["input_tokens"].to_list() == [23, 15]
    assert kept["cache_write_tokens"].to_list() == [5, 2]


def test_anthropic_usage_schema_drift_is_tolerated():
    kept, quarantine, counts = ingest(anthropic_usage, "schema_drift.json")
    assert tally(counts) == (2, 1, 1, 0, 0)
    row = kept.row(0, named=True)
    # "1000.0" is a count; a new cache TTL (ephemeral_24h) is still a cache write inside input
    assert (row["input_tokens"], row["cache_write_tokens"], row["output_tokens"]) == (1009, 9, 100)
    assert "account_id=acct_01X" in row["line_id"] and "speed=fast" in row["line_id"]
    assert quarantine.select("line", "reason").rows() == [(2, "bad_uncached_input_tokens")]


def test_anthropic_usage_error_response_is_a_reader_error():
    with pytest.raises(ReaderError, match=r"anthropic_usage: not a report page"):
        list(anthropic_usage.read(FIXTURES / "anthropic_usage" / "error_response.json"))


def test_anthropic_usage_rejects_csv_input():
    with pytest.raises(ReaderError, match="expected JSON report pages"):
        list(anthropic_usage.read(FIXTURES / "openai_usage" / "dashboard_usage.csv"))


# ---- anthropic_cost -------------------------------------------------------------------------------


def test_anthropic_cost_amount_is_cents():
    kept, _, counts = ingest(anthropic_cost, "cost_report.json")
    assert tally(counts) == (7, 7, 0, 0, 0)
    assert kept.schema["billed_cost"] == schema.MONEY
    cost = dict(zip(kept["sku"], kept["billed_cost"]))
    assert cost["Claude Sonnet 4 Usage - Input Tokens"] == Decimal("1.2378912")  # "123.78912" cents
    assert cost["Claude Sonnet 4 Usage - Output Tokens"] == Decimal("123.456789012346")  # 17 digits, 12 places
    assert cost["Claude Sonnet 4 Usage - Cache Read"] == Decimal("0.0003")  # "0.03" cents
    assert cost["Claude Sonnet 4 Usage - Cache Write 5m"] == Decimal("0.07")  # "7" cents
    assert cost["Web Search"] == Decimal("10")  # "1000" cents
    assert kept["billed_cost"].sum() == Decimal("135.414980212346")
    assert kept["effective_cost"].equals(kept["billed_cost"]) and kept["list_cost"].equals(kept["billed_cost"])


def test_anthropic_cost_token_types_map_to_canonical():
    kept, _, _ = ingest(anthropic_cost, "cost_report.json")
    types = dict(zip(kept["sku"], kept["token_type"]))
    assert types == {
        "Claude Sonnet 4 Usage - Input Tokens": "input",
        "Claude Sonnet 4 Usage - Output Tokens": "output",
        "Claude Sonnet 4 Usage - Cache Read": "cache_read",
        "Claude Sonnet 4 Usage - Cache Write 5m": "cache_write",
        "Claude Sonnet 4 Usage - Cache Write 1h": "cache_write",
        "Web Search": "other",
        "Code Execution": "other",
    }
    row = kept.row(0, named=True)
    assert (row["model"], row["sub_account_id"], row["billing_currency"]) == (
        "claude-sonnet-4-20250514",
        "wrkspc_01Alpha",
        "USD",
    )
    assert (row["charge_period_start"], row["charge_period_end"], row["day"]) == (
        dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2025, 11, 2, tzinfo=dt.timezone.utc),
        DAY1,
    )


def test_anthropic_cost_credit_is_kept_negative_and_lowercase_currency_upper_cased():
    kept, quarantine, counts = ingest(anthropic_cost, "credit.json")
    assert tally(counts) == (2, 2, 0, 0, 0) and quarantine.height == 0
    assert sorted(kept["billed_cost"].to_list()) == [Decimal("-25"), Decimal("25")]
    assert kept["billed_cost"].sum() == Decimal("0")
    assert kept["billing_currency"].unique().to_list() == ["USD"]
    assert dict(zip(kept["sku"], kept["token_type"])) == {"Promotional credit": "other", "tokens": None}


def test_anthropic_cost_null_workspace_is_default_only_when_grouped_by_workspace():
    kept, _, counts = ingest(anthropic_cost, "default_workspace.json")
    assert tally(counts) == (3, 3, 0, 0, 0)
    by_cost = dict(zip(kept["billed_cost"], kept["sub_account_id"]))
    assert by_cost == {Decimal("1"): "wrkspc_01Team", Decimal("2"): "default", Decimal("3"): None}


def test_anthropic_cost_empty_buckets_read_nothing():
    kept, _, counts = ingest(anthropic_cost, "empty_buckets.json")
    assert tally(counts) == (1, 1, 0, 0, 0)
    row = kept.row(0, named=True)
    # without a description the sku is composed so lines stay distinguishable
    assert (row["sku"], row["billed_cost"]) == ("tokens, claude-haiku-4-5-20251001, output_tokens", Decimal("0.042"))


def test_anthropic_cost_paginated_jsonl_dedups_redelivered_page():
    kept, _, counts = ingest(anthropic_cost, "paginated.jsonl")
    assert tally(counts) == (3, 2, 0, 1, 0)
    assert kept["billed_cost"].sum() == Decimal("0.3")


def test_anthropic_cost_schema_drift_is_tolerated():
    kept, quarantine, counts = ingest(anthropic_cost, "schema_drift.json")
    assert tally(counts) == (2, 1, 1, 0, 0)
    row = kept.row(0, named=True)
    assert (row["sku"], row["token_type"], row["billed_cost"]) == ("Claude Code session", "other", Decimal("2.50125"))
    assert quarantine.select("line", "reason").rows() == [(2, "bad_billed_cost")]


# ---- sniffing -------------------------------------------------------------------------------------

UNRECOGNIZABLE = {"anthropic_usage/error_response.json"}


@pytest.mark.parametrize("reader", [anthropic_usage, anthropic_cost], ids=lambda r: r.SOURCE)
def test_anthropic_sniff_claims_only_own_files(reader):
    for path in sorted((FIXTURES / reader.SOURCE).iterdir()):
        head = path.read_bytes()[:65536]
        claimed = {r.SOURCE for r in READERS if r.sniff(path, head)}
        expected = set() if f"{reader.SOURCE}/{path.name}" in UNRECOGNIZABLE else {reader.SOURCE}
        assert claimed == expected, path.name
