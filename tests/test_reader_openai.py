"""OpenAI usage and costs readers: API pages and dashboard CSV exports through normalize."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from tests.readers import FIXTURES, ingest, tally
from tokenomics import schema
from tokenomics.sources import anthropic_cost, anthropic_usage, openai_costs, openai_usage
from tokenomics.sources.normalize import ReaderError

READERS = (openai_usage, openai_costs, anthropic_usage, anthropic_cost)
DAY1 = dt.date(2025, 11, 1)


# ---- openai_usage ---------------------------------------------------------------------------------


def test_openai_usage_input_includes_cached_and_cache_write():
    kept, _, counts = ingest(openai_usage, "completions_page.json")
    assert tally(counts) == (1, 1, 0, 0, 0)
    row = kept.row(0, named=True)
    # input_tokens = cached 1800 + cache write 200 + uncached 3000: taken as is, never re-added
    assert (row["input_tokens"], row["cache_read_tokens"], row["cache_write_tokens"]) == (5000, 1800, 200)
    assert (row["output_tokens"], row["reasoning_tokens"], row["requests"]) == (1000, 0, 5)
    assert (row["day"], row["provider"], row["sub_account_id"], row["api_key_id"]) == (
        DAY1,
        "openai",
        "proj_alpha",
        "key_alpha",
    )
    assert (row["model"], row["service_tier"], row["is_batch"]) == ("gpt-4o-mini-2024-07-18", "default", False)


def test_openai_usage_empty_buckets_read_nothing():
    kept, quarantine, counts = ingest(openai_usage, "empty_buckets.json")
    assert tally(counts) == (0, 0, 0, 0, 0)
    assert kept.height == 0 and quarantine.height == 0


def test_openai_usage_header_only_csv_reads_nothing():
    kept, _, counts = ingest(openai_usage, "completions_usage_header_only.csv")
    assert tally(counts) == (0, 0, 0, 0, 0) and kept.height == 0


def test_openai_usage_csv_bom_float_counts_null_literals_and_time_only_rows():
    kept, _, counts = ingest(openai_usage, "dashboard_usage.csv")
    assert tally(counts) == (3, 2, 0, 0, 1)  # the time-only day is read and skipped
    first, third = kept.sort("day").rows(named=True)
    assert (first["input_tokens"], first["cache_read_tokens"], first["output_tokens"], first["requests"]) == (
        59200,
        5760,
        10646,
        10,
    )
    assert (first["sub_account_id"], first["api_key_id"], first["is_batch"]) == ("proj_csv", "key_csv", False)
    assert third["day"] == dt.date(2025, 11, 3)
    assert (third["api_key_id"], third["is_batch"], third["input_tokens"]) == (None, True, 1000)


def test_openai_usage_null_group_fields_stay_null():
    kept, _, counts = ingest(openai_usage, "null_group_fields.json")
    assert tally(counts) == (1, 1, 0, 0, 0)
    row = kept.row(0, named=True)
    assert (row["sub_account_id"], row["api_key_id"], row["model"]) == (None, None, None)
    assert (row["input_tokens"], row["cache_read_tokens"], row["requests"]) == (1200, 200, 4)


def test_openai_usage_paginated_jsonl_dedups_redelivered_bucket():
    kept, _, counts = ingest(openai_usage, "paginated.jsonl")
    assert tally(counts) == (3, 2, 0, 1, 0)
    assert kept.sort("day")["input_tokens"].to_list() == [100, 200]
    assert kept.sort("day")["is_batch"].to_list() == [False, True]


def test_openai_usage_list_of_pages_keeps_hourly_groups_apart():
    kept, _, counts = ingest(openai_usage, "paginated_list.json")
    assert tally(counts) == (3, 3, 0, 0, 0)
    assert kept["line_id"].n_unique() == 3
    assert kept["day"].unique().to_list() == [DAY1]
    assert kept["input_tokens"].sum() == 60


def test_openai_usage_small_chunks_give_the_same_rows():
    whole, _, _ = ingest(openai_usage, "paginated_list.json")
    chunked, _, counts = ingest(openai_usage, "paginated_list.json", chunk_rows=1)
    assert tally(counts) == (3, 3, 0, 0, 0)
    assert chunked.sort("line_id").equals(whole.sort("line_id"))


def test_openai_usage_schema_drift_is_tolerated():
    kept, _, counts = ingest(openai_usage, "schema_drift.json")
    assert tally(counts) == (3, 2, 0, 0, 1)  # the embeddings result is skipped
    old, new = kept.sort("model").rows(named=True)
    # 2024-12 variant: no cache-write field, misspelt object, still read
    assert (old["model"], old["input_tokens"], old["cache_read_tokens"], old["cache_write_tokens"]) == (
        "gpt-4o-2024-08-06",
        700,
        100,
        0,
    )
    assert (new["model"], new["input_tokens"], new["requests"]) == ("gpt-5-2025-08-07", 900, 9)
    assert "inference_region=eu" in new["line_id"]  # an unknown group-by keeps groups apart


def test_openai_usage_malformed_jsonl_line_is_quarantined():
    kept, quarantine, counts = ingest(openai_usage, "malformed_line.jsonl")
    assert tally(counts) == (3, 2, 1, 0, 0)
    assert quarantine.select("line", "reason").rows() == [(2, "malformed_json")]
    assert kept["input_tokens"].sum() == 400


def test_openai_usage_bad_rows_are_quarantined_with_reasons():
    kept, quarantine, counts = ingest(openai_usage, "bad_rows.json")
    assert tally(counts) == (6, 1, 5, 0, 0)
    assert kept["model"].to_list() == ["m-good"]
    assert quarantine.sort("line").select("line", "reason").rows() == [
        (1, "cache_exceeds_input"),
        (2, "negative_tokens"),
        (3, "bad_input_tokens"),
        (4, "bad_is_batch"),
        (6, "bad_day"),
    ]


def test_openai_usage_truncated_document_is_a_reader_error_naming_the_line():
    with pytest.raises(ReaderError, match=r"openai_usage: invalid JSON.*line 4 of truncated_document.json"):
        list(openai_usage.read(FIXTURES / "openai_usage" / "truncated_document.json"))


# ---- openai_costs ---------------------------------------------------------------------------------


def test_openai_costs_amount_is_dollars_exact_from_17_digit_strings():
    kept, _, counts = ingest(openai_costs, "costs_page.json")
    assert tally(counts) == (8, 8, 0, 0, 0)
    assert kept.schema["billed_cost"] == schema.MONEY
    cost = dict(zip(kept["sku"].fill_null("<ungrouped>"), kept["billed_cost"]))
    assert cost["gpt-4o-2024-08-06, input"] == Decimal("0.895874")  # "0.8958740000000000"
    assert cost["gpt-4o-2024-08-06, output"] == Decimal("0.06")  # JSON number 0.06
    assert cost["gpt-4o-2024-08-06, cached input"] == Decimal("0.000225")  # float artefact ...02 dropped
    assert cost["priority | gpt-5.6-sol, output, long context"] == Decimal("12.345678901235")  # 12 places
    assert kept["billed_cost"].sum() == Decimal("15.676777901235")
    assert kept["effective_cost"].equals(kept["billed_cost"]) and kept["list_cost"].equals(kept["billed_cost"])


def test_openai_costs_lowercase_currency_is_upper_cased():
    kept, _, _ = ingest(openai_costs, "costs_page.json")
    assert kept["billing_currency"].unique().to_list() == ["USD"]


def test_openai_costs_line_item_gives_model_and_token_type():
    kept, _, _ = ingest(openai_costs, "costs_page.json")
    parsed = {r["sku"]: (r["model"], r["token_type"]) for r in kept.iter_rows(named=True)}
    assert parsed == {
        "gpt-4o-2024-08-06, input": ("gpt-4o-2024-08-06", "input"),
        "gpt-4o-2024-08-06, output": ("gpt-4o-2024-08-06", "output"),
        "gpt-4o-2024-08-06, cached input": ("gpt-4o-2024-08-06", "cache_read"),
        "priority | gpt-5.6-sol, output, long context": ("gpt-5.6-sol", "output"),
        "gpt-audio-mini-2025-12-15 audio, input": ("gpt-audio-mini-2025-12-15", "input"),
        "web search tool calls": (None, "other"),
        "whisper-1, audio": ("whisper-1", "other"),
        None: (None, None),  # not grouped by line_item
    }


def test_openai_costs_bucket_is_the_charge_period_end_exclusive():
    kept, _, _ = ingest(openai_costs, "costs_page.json")
    row = kept.row(0, named=True)
    assert row["charge_period_start"] == dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc)
    assert row["charge_period_end"] == dt.datetime(2025, 11, 2, tzinfo=dt.timezone.utc)
    assert (row["day"], row["provider"], row["service_name"], row["tags"]) == (DAY1, "openai", "OpenAI API", "{}")
    assert row["sub_account_id"] == "proj_alpha"


def test_openai_costs_refunds_are_kept_negative():
    kept, quarantine, counts = ingest(openai_costs, "refund.json")
    assert tally(counts) == (3, 3, 0, 0, 0) and quarantine.height == 0
    cost = dict(zip(kept["sku"], kept["billed_cost"]))
    assert cost["Credit"] == Decimal("-2.5") and cost["Refund"] == Decimal("-0.000000000001")
    assert kept["billed_cost"].sum() == Decimal("7.499999999999")


def test_openai_costs_empty_buckets_read_nothing():
    kept, _, counts = ingest(openai_costs, "empty_buckets.json")
    assert tally(counts) == (1, 1, 0, 0, 0)
    assert kept["day"].to_list() == [dt.date(2025, 11, 2)]


def test_openai_costs_paginated_jsonl_dedups_redelivered_page():
    kept, _, counts = ingest(openai_costs, "paginated.jsonl")
    assert tally(counts) == (3, 2, 0, 1, 0)
    assert kept["billed_cost"].sum() == Decimal("3.30")


def test_openai_costs_schema_drift_and_thousand_token_quantities():
    kept, _, counts = ingest(openai_costs, "schema_drift.json")
    assert tally(counts) == (3, 3, 0, 0, 0)
    qty = {r["sku"]: (r["consumed_quantity"], r["consumed_unit"], r["token_type"]) for r in kept.iter_rows(named=True)}
    assert qty == {
        "gpt-5-2025-08-07, input": (Decimal("1250337"), "tokens", "input"),  # 1250.337 x 1000_tokens
        "gpt-5-2025-08-07, cache write": (Decimal("42"), "tokens", "cache_write"),
        "Vector storage": (Decimal("3.5"), "gibibyte_hours", "other"),
    }


def test_openai_costs_csv_bom_null_literals_and_time_only_rows():
    kept, _, counts = ingest(openai_costs, "dashboard_costs.csv")
    assert tally(counts) == (4, 3, 0, 0, 1)
    assert kept["billing_account_id"].unique().to_list() == ["org-Example0000000000000000"]
    assert kept["billed_cost"].sum() == Decimal("-0.074126")  # 0.895874 + 0.03 - 1
    ungrouped = kept.filter(pl.col("sku").is_null())
    assert (ungrouped["sub_account_id"].to_list(), ungrouped["billed_cost"].to_list()) == (
        [None],
        [Decimal("0.895874")],
    )
    assert kept["billing_currency"].unique().to_list() == ["USD"]


def test_openai_costs_header_only_csv_reads_nothing():
    kept, _, counts = ingest(openai_costs, "cost_header_only.csv")
    assert tally(counts) == (0, 0, 0, 0, 0) and kept.height == 0


# ---- sniffing -------------------------------------------------------------------------------------

# A page of nothing but empty buckets carries no field that tells usage from costs.
UNRECOGNIZABLE = {"openai_usage/empty_buckets.json"}


@pytest.mark.parametrize("reader", [openai_usage, openai_costs], ids=lambda r: r.SOURCE)
def test_openai_sniff_claims_only_own_files(reader):
    for path in sorted((FIXTURES / reader.SOURCE).iterdir()):
        head = path.read_bytes()[:65536]
        claimed = {r.SOURCE for r in READERS if r.sniff(path, head)}
        expected = set() if f"{reader.SOURCE}/{path.name}" in UNRECOGNIZABLE else {reader.SOURCE}
        assert claimed == expected, path.name


def test_openai_usage_audio_tokens_are_counted_under_each_spec_version():
    from tokenomics.ingest import normalize_file

    kept, quarantine, counts = normalize_file("openai_usage", FIXTURES / "openai_usage" / "audio_tokens.json")
    assert quarantine.height == 0 and counts.kept == 2
    by_project = {r["sub_account_id"]: r for r in kept.to_dicts()}
    current = by_project["proj_voice"]  # 2026 split fields present: totals already hold every modality
    assert (current["input_tokens"], current["cache_read_tokens"], current["input_audio_tokens"]) == (5000, 1800, 300)
    assert (current["output_tokens"], current["output_audio_tokens"]) == (1000, 100)
    legacy = by_project["proj_legacy"]  # 2024-12 spec: input/output were text only, audio beside them
    assert (legacy["input_tokens"], legacy["input_audio_tokens"]) == (900 + 4000, 4000)
    assert (legacy["output_tokens"], legacy["output_audio_tokens"]) == (250 + 1750, 1750)
