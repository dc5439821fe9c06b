"""focus reader: AI and Machine Learning lines of FOCUS 1.0-1.3 files, through normalize_chunks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.readers import deliver_twice
from tokenomics.ingest import normalize_file
from tokenomics.sources import focus
from tokenomics.sources.normalize import FileCounts, ReaderError

FIXTURES = Path(__file__).parent / "fixtures"
HERE = FIXTURES / "focus"


def ingest(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, FileCounts]:
    kept, quarantine, counts = normalize_file("focus", path, dedup=False)
    assert counts.balanced
    return kept, quarantine, counts


def by_provider(kept: pl.DataFrame) -> dict[str, dict]:
    return {r["provider"]: r for r in kept.iter_rows(named=True)}


def test_providers_map_to_canonical_names_and_compute_is_skipped():
    kept, quarantine, counts = ingest(HERE / "focus12_ai_lines.csv")
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (5, 4, 0, 1)
    assert sorted(kept["provider"]) == ["aws_bedrock", "azure_openai", "gcp_vertex", "openai"]


def test_each_provider_sku_is_parsed_with_its_cloud_rules():
    rows = by_provider(ingest(HERE / "focus12_ai_lines.csv")[0])
    azure = rows["azure_openai"]
    assert (azure["sku"], azure["model"], azure["token_type"]) == ("gpt 4o 1120 Inp glbl Tokens", "gpt-4o", "input")
    aws = rows["aws_bedrock"]
    assert (aws["sku"], aws["model"], aws["token_type"]) == (
        "USE1-Claude3Sonnet-input-tokens", "claude-3-sonnet", "input",
    )  # fmt: skip
    gcp = rows["gcp_vertex"]
    assert (gcp["sku"], gcp["model"], gcp["token_type"]) == ("Gemini 2.5 Pro Text Input", "gemini-2.5-pro", "input")


def test_billed_effective_and_list_costs_stay_exact():
    rows = by_provider(ingest(HERE / "focus12_ai_lines.csv")[0])
    azure = rows["azure_openai"]
    assert (azure["billed_cost"], azure["effective_cost"], azure["list_cost"]) == (
        Decimal("3.125843"), Decimal("3"), Decimal("3.125843"),
    )  # fmt: skip
    assert (azure["consumed_quantity"], azure["consumed_unit"]) == (Decimal("1250337"), "tokens")
    assert json.loads(azure["tags"]) == {"team": "search"}
    assert (azure["billing_account_id"], azure["sub_account_id"], azure["service_name"]) == (
        "8611537", "sub-1", "Azure OpenAI",
    )  # fmt: skip


def test_pricing_quantity_in_blocks_stands_in_for_a_missing_consumed_quantity():
    gcp = by_provider(ingest(HERE / "focus12_ai_lines.csv")[0])["gcp_vertex"]
    assert (gcp["consumed_quantity"], gcp["consumed_unit"]) == (Decimal("1000000"), "tokens")  # 1 x '1M Tokens'


def test_negative_credit_lines_are_kept():
    openai = by_provider(ingest(HERE / "focus12_ai_lines.csv")[0])["openai"]
    assert (openai["billed_cost"], openai["effective_cost"], openai["billing_currency"]) == (
        Decimal("-0.5"), Decimal("-0.5"), "USD",
    )  # fmt: skip
    assert (openai["token_type"], openai["consumed_quantity"]) == ("other", None)


def test_sample_data_style_null_literals_naive_timestamps_and_marketplace_claude():
    kept, quarantine, counts = ingest(HERE / "focus10_sample_style.csv")
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (3, 2, 0, 1)
    claude = kept.filter(pl.col("billed_cost") > 0).row(0, named=True)
    assert (claude["provider"], claude["model"], claude["token_type"]) == ("aws_bedrock", "claude-3-haiku", "input")
    assert (claude["charge_period_start"], claude["charge_period_end"]) == (
        datetime(2024, 9, 18, 22, tzinfo=UTC), datetime(2024, 9, 18, 23, tzinfo=UTC),
    )  # fmt: skip
    assert (claude["billed_cost"], claude["consumed_quantity"]) == (Decimal("0.0008"), Decimal("3200"))
    credit = kept.filter(pl.col("billed_cost") < 0).row(0, named=True)
    assert (credit["billed_cost"], credit["consumed_quantity"], credit["tags"]) == (Decimal("-1.5"), None, None)


def test_spec_example_us_short_dates_and_bom():
    kept, quarantine, counts = ingest(HERE / "spec_us_dates.csv")
    assert (counts.kept, counts.quarantined) == (2, 0)
    assert kept["charge_period_start"].to_list() == [datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 5, 2, tzinfo=UTC)]
    assert kept["charge_period_end"].to_list() == [datetime(2025, 5, 2, tzinfo=UTC), datetime(2025, 5, 3, tzinfo=UTC)]
    assert set(kept["provider"]) == {"anthropic"} and kept["sub_account_id"].to_list() == [None, None]
    assert kept["effective_cost"].sum() == Decimal("125")


def test_focus_13_service_provider_name_and_missing_optional_cost_columns():
    kept, quarantine, counts = ingest(HERE / "focus13_service_provider.csv")
    assert (counts.kept, counts.skipped) == (1, 1)
    row = kept.row(0, named=True)
    assert (row["provider"], row["model"], row["token_type"]) == ("azure_openai", "gpt-4.1", "cache_read")
    assert (row["billed_cost"], row["effective_cost"], row["list_cost"]) == (Decimal("0.0075"), Decimal("0.0075"), None)


def test_parquet_doubles_and_typed_timestamps():
    kept, quarantine, counts = ingest(HERE / "focus_azure.parquet")
    assert (counts.read, counts.kept, counts.skipped) == (2, 1, 1)
    row = kept.row(0, named=True)
    assert (row["billed_cost"], row["effective_cost"], row["list_cost"]) == (
        Decimal("3.125843"), Decimal("0.000225"), Decimal("3.2"),
    )  # fmt: skip
    assert row["charge_period_start"] == datetime(2025, 8, 14, tzinfo=UTC)
    assert row["consumed_quantity"] == Decimal("1250337")
    assert json.loads(row["tags"]) == {"team": "search"}


def test_header_only_file_reads_no_rows():
    kept, quarantine, counts = ingest(HERE / "header_only.csv")
    assert (counts.read, kept.height, quarantine.height) == (0, 0, 0)


def test_missing_billing_currency_names_the_file_and_the_column():
    with pytest.raises(ReaderError, match=r"BillingCurrency.*missing_billing_currency\.csv"):
        ingest(HERE / "missing_billing_currency.csv")


def test_the_same_file_delivered_twice_deduplicates(tmp_path):
    report = deliver_twice(HERE / "focus12_ai_lines.csv", "focus", tmp_path)
    assert report.rows["billing_lines"] == 4
    assert [(c.kept, c.deduplicated) for c in report.files] == [(4, 0), (0, 4)]


@pytest.mark.parametrize(
    ("provider", "service", "publisher", "expected"),
    [
        ("Microsoft", "Azure OpenAI", "Microsoft", "azure_openai"),
        ("AWS", "Amazon Bedrock", "AWS", "aws_bedrock"),
        ("Amazon Web Services", "Claude 3 Haiku (Amazon Bedrock Edition)", "Anthropic", "aws_bedrock"),
        ("Google Cloud", "Vertex AI", "Google", "gcp_vertex"),
        ("Google Cloud", "Gemini API", "Google", "google_ai"),
        ("OpenAI", "OpenAI API", "OpenAI", "openai"),
        ("Anthropic", "Claude API", "Anthropic", "anthropic"),
        ("Mistral AI", "La Plateforme", None, "mistral"),
        ("AWS", "Amazon SageMaker", "AWS", "other"),
    ],
)
def test_canonical_provider(provider, service, publisher, expected):
    assert focus.canonical_provider(provider, service, publisher) == expected


def test_sniff_claims_focus_files_only():
    for path in sorted(FIXTURES.glob("*/*")):
        if path.parent.name not in ("aws_cur", "azure_cost", "gcp_billing", "focus"):
            continue
        expected = path.parent.name == "focus"
        assert focus.sniff(path, path.read_bytes()[:65536]) is expected, path.name


def build_parquet_fixture(path: Path = HERE / "focus_azure.parquet") -> None:
    """How focus_azure.parquet was made (run once: python tests/test_reader_focus.py)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    start, end = datetime(2025, 8, 14, tzinfo=UTC), datetime(2025, 8, 15, tzinfo=UTC)
    table = pa.table(
        {
            "BilledCost": pa.array([3.125843, 0.5], type=pa.float64()),
            "EffectiveCost": pa.array([0.00022500000000000002, 0.5], type=pa.float64()),
            "ListCost": pa.array([3.2, 0.5], type=pa.float64()),
            "BillingAccountId": ["8611537"] * 2,
            "BillingCurrency": ["USD"] * 2,
            "ChargePeriodStart": pa.array([start] * 2, type=pa.timestamp("us", tz="UTC")),
            "ChargePeriodEnd": pa.array([end] * 2, type=pa.timestamp("us", tz="UTC")),
            "ConsumedQuantity": pa.array([1250337.0, 2.0], type=pa.float64()),
            "ConsumedUnit": ["Tokens", "GB-Months"],
            "ProviderName": ["Microsoft"] * 2,
            "ServiceCategory": ["AI and Machine Learning", "Storage"],
            "ServiceName": ["Azure OpenAI", "Storage"],
            "SkuMeter": ["gpt 4o 1120 Inp glbl Tokens", "Hot LRS Data Stored"],
            "SubAccountId": ["sub-1"] * 2,
            "Tags": ['{"team": "search"}', None],
        }
    )
    pq.write_table(table, path)


if __name__ == "__main__":
    build_parquet_fixture()
