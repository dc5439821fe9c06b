"""gcp_billing reader: Vertex AI and Gemini API lines from JSONL, CSV and Parquet, through normalize_chunks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.readers import deliver_twice
from tokenomics.ingest import normalize_file
from tokenomics.sources import gcp_billing
from tokenomics.sources.cloud_skus import described_sku
from tokenomics.sources.normalize import FileCounts, ReaderError

FIXTURES = Path(__file__).parent / "fixtures"
HERE = FIXTURES / "gcp_billing"


def ingest(path: Path, chunk_rows: int = 200_000) -> tuple[pl.DataFrame, pl.DataFrame, FileCounts]:
    kept, quarantine, counts = normalize_file("gcp_billing", path, chunk_rows=chunk_rows, dedup=False)
    assert counts.balanced
    return kept, quarantine, counts


def by_sku(kept: pl.DataFrame) -> dict[str, dict]:
    return {r["sku"]: r for r in kept.iter_rows(named=True)}


def test_credits_are_added_to_cost_for_the_effective_cost():
    row = by_sku(ingest(HERE / "vertex_credits.jsonl")[0])["Gemini 2.5 Pro Text Input (≤200k)"]
    assert (row["billed_cost"], row["effective_cost"], row["list_cost"]) == (
        Decimal("1.25"),
        Decimal("0.625"),
        Decimal("1.25"),
    )  # fmt: skip  1.25 - 0.5 - 0.125
    assert (row["model"], row["token_type"], row["consumed_quantity"], row["consumed_unit"]) == (
        "gemini-2.5-pro", "input", Decimal("1000000"), "tokens",
    )  # fmt: skip
    assert json.loads(row["tags"]) == {"team": "search", "feature": "answers"}
    assert (row["sub_account_id"], row["billing_account_id"]) == ("acme-prod", "01A2B3-C4D5E6-F7A8B9")
    assert (row["charge_period_start"], row["charge_period_end"]) == (
        datetime(2025, 9, 1, 10, tzinfo=UTC), datetime(2025, 9, 1, 11, tzinfo=UTC),
    )  # fmt: skip


def test_jsonl_keeps_vertex_gemini_api_and_partner_models_and_quarantines_a_broken_line():
    kept, quarantine, counts = ingest(HERE / "vertex_credits.jsonl")
    # 8 lines: one blank (not a record), Compute Engine and a MongoDB marketplace line skipped
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (7, 4, 1, 2)
    assert quarantine.select("line", "reason").rows() == [(8, "malformed_json")]
    rows = by_sku(kept)
    assert rows["Gemini 2.5 Flash Cached Input Text"]["provider"] == "google_ai"
    assert rows["Gemini 2.5 Flash Cached Input Text"]["token_type"] == "cache_read"
    partner = rows["Claude Sonnet 4 Input Tokens"]
    assert (partner["provider"], partner["model"], partner["billed_cost"]) == (
        "gcp_vertex", "claude-sonnet-4", Decimal("0.3"),
    )  # fmt: skip


def test_json_numbers_keep_their_digits_and_refund_credits_reach_zero():
    rows = by_sku(ingest(HERE / "vertex_credits.jsonl")[0])
    output = rows["Gemini 2.5 Pro Text and Thinking Output (≤200k)"]
    assert output["billed_cost"] == Decimal("0.000225")  # 0.00022500000000000002
    assert output["billing_currency"] == "USD"  # written "usd"
    cached = rows["Gemini 2.5 Flash Cached Input Text"]
    assert (cached["billed_cost"], cached["effective_cost"]) == (Decimal("0.075"), Decimal("0"))


def test_flattened_csv_with_json_credits_labels_and_character_skus():
    kept, quarantine, counts = ingest(HERE / "flat_underscore.csv")
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (4, 2, 1, 1)
    rows = by_sku(kept)
    pro = rows["Gemini 2.5 Pro Text Input (≤200k)"]
    assert pro["effective_cost"] == Decimal("1.166666666667")  # 2.5 - 1.0 - 0.3333333333333333
    assert pro["consumed_quantity"] == Decimal("2000000")
    assert json.loads(pro["tags"]) == {"team": "search"}
    chars = rows["Gemini 1.5 Pro Input Characters"]
    assert (chars["consumed_unit"], chars["consumed_quantity"]) == ("characters", Decimal("100000"))
    assert chars["tags"] is None
    assert quarantine.select("line", "reason").rows() == [(4, "bad_credits")]


def test_dotted_csv_with_summed_credits_bom_null_and_quoted_numbers():
    kept, quarantine, counts = ingest(HERE / "flat_dotted_summed_credits.csv")
    assert (counts.read, counts.kept, counts.quarantined) == (2, 2, 0)
    rows = by_sku(kept)
    out = rows["Gemini 2.5 Flash Output Text"]
    assert (out["provider"], out["billed_cost"], out["effective_cost"], out["consumed_quantity"]) == (
        "google_ai", Decimal("0.6"), Decimal("0.35"), Decimal("240000"),
    )  # fmt: skip
    assert json.loads(out["tags"]) == {"team": "growth"}
    assert out["charge_period_start"] == datetime(2025, 9, 3, tzinfo=UTC)
    inp = rows["Gemini 2.5 Flash Input Text"]
    assert (inp["effective_cost"], inp["tags"]) == (Decimal("0.03"), None)


def test_nested_parquet_export():
    kept, quarantine, counts = ingest(HERE / "vertex_export.parquet")
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (3, 2, 0, 1)
    rows = by_sku(kept)
    row = rows["Gemini 2.5 Flash Text Input"]
    assert (row["billed_cost"], row["effective_cost"]) == (Decimal("0.004596"), Decimal("0.002298"))
    assert row["charge_period_start"] == datetime(2025, 9, 4, 8, tzinfo=UTC)
    assert json.loads(row["tags"]) == {"env": "prod", "team": "search"}
    assert row["consumed_quantity"] == Decimal("15320")
    assert rows["Gemini 2.5 Flash Text Output"]["effective_cost"] == Decimal("0.01")


def test_chunked_reading_gives_the_same_rows():
    whole = ingest(HERE / "vertex_credits.jsonl")[0]
    chunked, quarantine, counts = ingest(HERE / "vertex_credits.jsonl", chunk_rows=2)
    assert chunked.sort("line_id").equals(whole.sort("line_id"))
    assert (counts.kept, counts.quarantined, counts.skipped) == (4, 1, 2)


def test_header_only_export_reads_no_rows():
    kept, quarantine, counts = ingest(HERE / "header_only.csv")
    assert (counts.read, kept.height, quarantine.height) == (0, 0, 0)


def test_missing_cost_column_names_the_file_and_the_column():
    with pytest.raises(ReaderError, match=r"'cost'.*missing_cost\.csv"):
        ingest(HERE / "missing_cost.csv")


def test_the_same_export_delivered_twice_deduplicates(tmp_path):
    report = deliver_twice(HERE / "vertex_credits.jsonl", "gcp_billing", tmp_path)
    assert report.rows["billing_lines"] == 4
    assert [(c.kept, c.deduplicated) for c in report.files] == [(4, 0), (0, 4)]


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Gemini 2.5 Flash Image Output", ("gemini-2.5-flash", "output")),
        ("Gemini 2.5 Pro Context Cache Storage", (None, "other")),
        ("Claude 3.5 Sonnet v2 Input Tokens", ("claude-3-5-sonnet-v2", "input")),
        ("Claude Sonnet 4 Cache Write Input Tokens", ("claude-sonnet-4", "cache_write")),
        ("Vertex AI Online Prediction n1-standard-4", (None, "other")),
    ],
)
def test_sku_descriptions_parse_to_model_and_token_type(description, expected):
    assert described_sku(description) == expected


def test_sniff_claims_gcp_exports_only():
    for path in sorted(FIXTURES.glob("*/*")):
        if path.parent.name not in ("aws_cur", "azure_cost", "gcp_billing", "focus"):
            continue
        expected = path.parent.name == "gcp_billing" and not path.name.startswith("missing_")
        assert gcp_billing.sniff(path, path.read_bytes()[:65536]) is expected, path.name


def build_parquet_fixture(path: Path = HERE / "vertex_export.parquet") -> None:
    """How vertex_export.parquet was made (run once: python tests/test_reader_gcp.py)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = datetime(2025, 9, 4, 8, tzinfo=UTC)
    pairs = [{"key": "team", "value": "search"}, {"key": "env", "value": "prod"}]
    trial = [{"name": "trial", "amount": -0.002298}]
    rows = [
        ("Vertex AI", "Gemini 2.5 Flash Text Input", 0.004596, trial, pairs, 15320.0),
        ("Vertex AI", "Gemini 2.5 Flash Text Output", 0.01, [], [], 4000.0),
        ("BigQuery", "Analysis", 5.0, [{"name": "free tier", "amount": -5.0}], [], 1.0),
    ]
    table = pa.table(
        {
            "billing_account_id": ["01A2B3-C4D5E6-F7A8B9"] * 3,
            "service": [{"id": "C7E2", "description": r[0]} for r in rows],
            "sku": [{"id": "S", "description": r[1]} for r in rows],
            "usage_start_time": pa.array([t] * 3, type=pa.timestamp("us", tz="UTC")),
            "usage_end_time": pa.array([t.replace(hour=9)] * 3, type=pa.timestamp("us", tz="UTC")),
            "project": [{"id": "acme-prod", "number": "123"}] * 3,
            "labels": pa.array(
                [r[4] for r in rows], type=pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
            ),
            "cost": pa.array([r[2] for r in rows], type=pa.float64()),
            "currency": ["USD"] * 3,
            "usage": [{"amount": r[5], "unit": "count"} for r in rows],
            "credits": pa.array(
                [r[3] for r in rows], type=pa.list_(pa.struct([("name", pa.string()), ("amount", pa.float64())]))
            ),
        }
    )
    pq.write_table(table, path)


if __name__ == "__main__":
    build_parquet_fixture()
