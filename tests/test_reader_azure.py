"""azure_cost reader: Azure OpenAI / Foundry lines of EA and MCA exports, through normalize_chunks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.readers import deliver_twice
from tokenomics.ingest import normalize_file
from tokenomics.sources import azure_cost
from tokenomics.sources.cloud_skus import azure_sku, unit_block
from tokenomics.sources.normalize import FileCounts, ReaderError

FIXTURES = Path(__file__).parent / "fixtures"
HERE = FIXTURES / "azure_cost"


def ingest(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, FileCounts]:
    kept, quarantine, counts = normalize_file("azure_cost", path, dedup=False)
    assert counts.balanced
    return kept, quarantine, counts


def by_sku(kept: pl.DataFrame) -> dict[str, dict]:
    return {r["sku"]: r for r in kept.iter_rows(named=True)}


def test_quantity_in_1k_1m_and_10k_blocks_becomes_tokens():
    rows = by_sku(ingest(HERE / "ea_actual_blocks.csv")[0])
    assert rows["gpt 4o 1120 Inp glbl Tokens"]["consumed_quantity"] == Decimal("1250337")  # 1250.337 x 1K
    assert rows["gpt 4o 1120 cached Inp glbl Tokens"]["consumed_quantity"] == Decimal("4")  # 0.0004 x 10K
    assert rows["GPT 5 Inpt Glbl 1M Tokens"]["consumed_quantity"] == Decimal("250000")  # 0.25 x 1M
    assert set(r["consumed_unit"] for r in rows.values()) == {"tokens"}


def test_costs_stay_exact_and_list_cost_is_payg_price_times_quantity():
    first = by_sku(ingest(HERE / "ea_actual_blocks.csv")[0])["gpt 4o 1120 Inp glbl Tokens"]
    assert (first["billed_cost"], first["effective_cost"], first["list_cost"]) == (
        Decimal("3.1258425"), Decimal("3.1258425"), Decimal("3.1258425"),
    )  # fmt: skip
    assert first["billing_currency"] == "USD"


def test_abbreviated_meters_parse_and_meter_id_prefixes_the_line_id():
    rows = by_sku(ingest(HERE / "ea_actual_blocks.csv")[0])
    short = rows["gpt-4o-0806-Inp-glbl 1K"]
    assert (short["model"], short["token_type"], short["consumed_quantity"]) == ("gpt-4o", "input", Decimal("20000"))
    assert short["line_id"].startswith("6a1b2c3d-2222-4222-8222-222222222222:")
    cached = rows["gpt 4o 1120 cached Inp glbl Tokens"]
    assert (cached["model"], cached["token_type"]) == ("gpt-4o", "cache_read")


def test_a_daily_row_covers_its_whole_inclusive_day():
    row = by_sku(ingest(HERE / "ea_actual_blocks.csv")[0])["gpt-4o-0806-Inp-glbl 1K"]
    assert (row["charge_period_start"], row["charge_period_end"], row["day"].isoformat()) == (
        datetime(2025, 8, 31, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC), "2025-08-31",
    )  # fmt: skip


def test_foundry_models_are_kept_and_other_meters_skipped():
    kept, quarantine, counts = ingest(HERE / "ea_actual_blocks.csv")
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (7, 5, 0, 2)  # VM and Speech
    grok = by_sku(kept)["Grok 4.1 Inp Glbl Tokens"]
    assert (grok["service_name"], grok["model"], grok["provider"]) == ("Azure Grok Models", "grok-4.1", "azure_openai")
    assert grok["sub_account_id"] == "1b2c3d4e-0000-4000-8000-000000000002"


def test_tags_without_outer_braces_become_a_json_object():
    row = by_sku(ingest(HERE / "ea_actual_blocks.csv")[0])["gpt 4o 1120 Inp glbl Tokens"]
    assert json.loads(row["tags"]) == {"team": "search", "env": "prod"}


def test_mca_lower_camel_columns_iso_dates_amortized_cost_and_refunds():
    kept, quarantine, counts = ingest(HERE / "mca_lower_camel.csv")
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (4, 3, 0, 1)
    rows = by_sku(kept)
    cached = rows["gpt 4.1 mini cached Inp DZone Tokens"]
    assert (cached["consumed_quantity"], cached["billed_cost"], cached["effective_cost"], cached["list_cost"]) == (
        Decimal("12500"), Decimal("0.00125"), Decimal("0.001"), Decimal("0.00125"),
    )  # fmt: skip
    assert (cached["billing_currency"], cached["billing_account_id"]) == ("EUR", "acct-mca-1")
    assert json.loads(cached["tags"]) == {"team": "ml", "feature": "rag"}
    assert cached["charge_period_start"] == datetime(2025, 9, 1, tzinfo=UTC)
    phi = rows["Phi-4-Input Tokens"]
    assert (phi["consumed_quantity"], phi["model"], phi["effective_cost"]) == (
        Decimal("59200"),
        "phi-4",
        Decimal("0.0074"),
    )  # fmt: skip  "59200.0"; amortized NULL falls back to billed
    refund = rows["gpt 4.1 Outp glbl Tokens"]
    assert (refund["billed_cost"], refund["consumed_quantity"]) == (Decimal("-0.8"), Decimal("-100000"))


def test_billing_period_end_date_is_inclusive():
    row = ingest(HERE / "billing_period_only.csv")[0].row(0, named=True)
    assert (row["charge_period_start"], row["charge_period_end"]) == (
        datetime(2025, 9, 1, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC),
    )  # fmt: skip
    assert (row["model"], row["consumed_quantity"], row["billed_cost"]) == ("o3", Decimal("4000000"), Decimal("8"))


def test_header_only_export_reads_no_rows():
    kept, quarantine, counts = ingest(HERE / "header_only.csv")
    assert (counts.read, kept.height, quarantine.height) == (0, 0, 0)


def test_missing_unit_of_measure_names_the_file_and_the_column():
    with pytest.raises(ReaderError, match=r"UnitOfMeasure.*missing_unit_of_measure\.csv"):
        ingest(HERE / "missing_unit_of_measure.csv")


def test_unknown_columns_tolerated_and_bad_rows_quarantined_with_reasons():
    kept, quarantine, counts = ingest(HERE / "drift_bad_rows.csv")
    assert (counts.read, counts.kept, counts.quarantined) == (5, 2, 3)
    assert dict(zip(quarantine["line"], quarantine["reason"], strict=True)) == {
        4: "bad_charge_period_start",  # 31/08/2025 is not MM/DD/YYYY
        5: "missing_billed_cost",
        6: "bad_consumed_quantity",
    }
    assert kept["tags"].to_list() == [None, None]
    assert kept["list_cost"].to_list() == [None, None]
    # identical lines, no MeterId: distinct content-hash line ids, both kept
    assert kept["line_id"].n_unique() == 2


def test_the_same_export_delivered_twice_deduplicates(tmp_path):
    report = deliver_twice(HERE / "ea_actual_blocks.csv", "azure_cost", tmp_path)
    assert report.rows["billing_lines"] == 5
    assert [(c.kept, c.deduplicated) for c in report.files] == [(5, 0), (0, 5)]


@pytest.mark.parametrize(
    ("meter", "expected"),
    [
        ("gpt 4o 0513 Input global Tokens", ("gpt-4o", "input")),
        ("gpt 4.1 Outp glbl Tokens", ("gpt-4.1", "output")),
        ("gpt 4o mini 0718 Batch Inp Data Zone Tokens", ("gpt-4o-mini", "input")),
        ("o4-mini 0416 Inp glbl Tokens", ("o4-mini", "input")),
        ("5.4 opt Gl 1M Tokens", ("gpt-5.4", "output")),
        ("5.1 pp cd inp Dz 1M Tokens", ("gpt-5.1-pp", "cache_read")),
        ("gpt-oss-120B Inp glbl Tokens", ("gpt-oss-120b", "input")),
        ("Codestral Inp glbl Tokens", ("codestral", "input")),
        ("D4 v5", (None, "other")),
    ],
)
def test_azure_meter_names_parse_to_model_and_token_type(meter, expected):
    assert azure_sku(meter) == expected


@pytest.mark.parametrize(
    ("unit", "block", "name"),
    [("1K", "1000", ""), ("10K", "10000", ""), ("1M", "1000000", ""), ("1 Hour", "1", "hour"),
     ("1000 Tokens", "1000", "tokens"), ("1/Month", "1", "month")],
)  # fmt: skip
def test_unit_of_measure_blocks(unit, block, name):
    assert unit_block(unit) == (Decimal(block), name)


def test_sniff_claims_azure_exports_only():
    for path in sorted(FIXTURES.glob("*/*")):
        if path.parent.name not in ("aws_cur", "azure_cost", "gcp_billing", "focus"):
            continue
        expected = path.parent.name == "azure_cost"
        assert azure_cost.sniff(path, path.read_bytes()[:65536]) is expected, path.name
