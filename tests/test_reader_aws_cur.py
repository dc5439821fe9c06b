"""aws_cur reader: Bedrock lines of CUR 2.0 and legacy CUR, through normalize_chunks, exact numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.readers import deliver_twice
from tokenomics.ingest import normalize_file
from tokenomics.sources import aws_cur
from tokenomics.sources.cloud_skus import bedrock_sku
from tokenomics.sources.normalize import FileCounts, ReaderError

FIXTURES = Path(__file__).parent / "fixtures"
HERE = FIXTURES / "aws_cur"


def ingest(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, FileCounts]:
    kept, quarantine, counts = normalize_file("aws_cur", path, dedup=False)
    assert counts.balanced
    return kept, quarantine, counts


def by_sku(kept: pl.DataFrame) -> dict[str, dict]:
    return {r["sku"]: r for r in kept.iter_rows(named=True)}


def test_marketplace_claude_lines_are_kept_beside_first_party_bedrock():
    kept, quarantine, counts = ingest(HERE / "cur2_marketplace.csv")
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (6, 4, 0, 2)
    rows = by_sku(kept)
    marketplace = rows["USE1-MP:USE1_InputTokenCount-Units"]
    assert marketplace["service_name"] == "Claude 3.5 Sonnet (Amazon Bedrock Edition)"
    assert (marketplace["model"], marketplace["token_type"]) == ("claude-3-5-sonnet", "input")
    assert marketplace["consumed_quantity"] == Decimal("1532")  # "1532.0"
    assert marketplace["consumed_unit"] == "tokens"
    assert marketplace["billed_cost"] == Decimal("0.004596")
    assert marketplace["sub_account_id"] == "333333333333"
    assert rows["USE1-MP:USE1_OutputTokenCount-Units"]["token_type"] == "output"
    assert set(kept["provider"]) == {"aws_bedrock"}


def test_first_party_usage_types_give_model_and_token_type():
    rows = by_sku(ingest(HERE / "cur2_marketplace.csv")[0])
    first = rows["USE1-Claude3Sonnet-input-tokens"]
    assert (first["model"], first["token_type"], first["consumed_quantity"]) == (
        "claude-3-sonnet", "input", Decimal("1000000"),
    )  # fmt: skip
    cache = rows["USE1-Claude4.6Opus-cache-read-input-token-count-cross-region-global"]
    assert (cache["model"], cache["token_type"]) == ("claude-opus-4-6", "cache_read")


def test_net_unblended_cost_is_the_effective_cost_else_the_unblended_cost():
    rows = by_sku(ingest(HERE / "cur2_marketplace.csv")[0])
    first = rows["USE1-Claude3Sonnet-input-tokens"]
    assert (first["billed_cost"], first["effective_cost"], first["list_cost"]) == (
        Decimal("3"), Decimal("2.85"), Decimal("3"),
    )  # fmt: skip
    no_net = rows["USE1-Claude4.6Opus-cache-read-input-token-count-cross-region-global"]
    assert no_net["effective_cost"] == Decimal("0.3")


def test_cur2_resource_tags_lose_the_user_prefix_and_currency_is_upper_case():
    rows = by_sku(ingest(HERE / "cur2_marketplace.csv")[0])
    first = rows["USE1-Claude3Sonnet-input-tokens"]
    assert json.loads(first["tags"]) == {"team": "search", "env": "prod"}
    cache = rows["USE1-Claude4.6Opus-cache-read-input-token-count-cross-region-global"]
    assert cache["tags"] is None and cache["billing_currency"] == "USD"  # written "usd"


def test_line_id_is_the_line_item_id_within_its_time_interval():
    rows = by_sku(ingest(HERE / "cur2_marketplace.csv")[0])
    assert rows["USE1-Claude3Sonnet-input-tokens"]["line_id"] == ("li-001/2026-05-01T00:00:00Z/2026-05-01T01:00:00Z")
    start, end = (
        rows["USE1-Claude3Sonnet-input-tokens"]["charge_period_start"],
        rows["USE1-Claude3Sonnet-input-tokens"]["charge_period_end"],
    )
    assert (start, end) == (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 1, 1, tzinfo=UTC))


def test_credits_and_refunds_are_kept_negative_not_quarantined():
    kept, quarantine, counts = ingest(HERE / "cur2_credits_refunds.csv")
    assert (counts.kept, counts.quarantined, counts.skipped) == (3, 0, 1)  # the EC2 credit is skipped
    assert sorted(kept["billed_cost"].to_list()) == [Decimal("-12.345678901234"), Decimal("-0.48"), Decimal("0.48")]
    assert kept["billed_cost"].sum() == Decimal("-12.345678901234")
    refund = kept.filter(pl.col("sku") == "USE1-ProvisionedThroughput-Units").row(0, named=True)
    assert (refund["token_type"], refund["model"], refund["consumed_unit"]) == ("other", None, "hours")


def test_legacy_cur_headers_tag_columns_bom_null_and_quoted_numbers():
    kept, quarantine, counts = ingest(HERE / "legacy_tags.csv")
    assert (counts.read, counts.kept, counts.skipped) == (3, 2, 1)
    rows = by_sku(kept)
    first = rows["USW2-Claude3Haiku-input-tokens"]
    assert first["consumed_quantity"] == Decimal("59200")  # "59200.0"
    assert first["billed_cost"] == first["effective_cost"] == Decimal("0.0148")  # NetUnblendedCost NULL
    assert json.loads(first["tags"]) == {"team": "search", "cost-center": "CC-1234"}
    assert (first["billing_account_id"], first["sub_account_id"]) == ("111111111111", "444444444444")
    second = rows["USW2-Claude3Haiku-output-tokens"]
    assert second["consumed_quantity"] == Decimal("8000000")  # 8000 x '1K tokens'
    assert second["effective_cost"] == Decimal("0.009")
    assert json.loads(second["tags"]) == {"aws:createdBy": "AROAEXAMPLE:alice"}


def test_parquet_maps_timestamps_and_doubles_stay_exact():
    kept, quarantine, counts = ingest(HERE / "cur2_bedrock.parquet")
    assert (counts.read, counts.kept, counts.quarantined, counts.skipped) == (4, 3, 0, 1)
    rows = by_sku(kept)
    marketplace = rows["USW2-MP:USW2_output_tokens_standard-Units"]
    assert (marketplace["model"], marketplace["token_type"]) == ("claude-sonnet-4-6", "output")
    assert marketplace["billed_cost"] == Decimal("0.004596")
    assert json.loads(marketplace["tags"]) == {"team": "support"}
    artefact = rows["USW2-anthropic.claude-opus-4-8-mantle-cache-write-tokens-global-standard"]
    assert artefact["billed_cost"] == Decimal("0.000225")  # 0.00022500000000000002 as a double
    assert artefact["model"] == "claude-opus-4-8" and artefact["token_type"] == "cache_write"
    assert artefact["charge_period_start"] == datetime(2026, 5, 1, 3, tzinfo=UTC)
    credit = rows["USW2-Claude3Haiku-input-tokens"]
    assert credit["billed_cost"] == Decimal("-0.1") and credit["tags"] is None


def test_header_only_file_reads_no_rows():
    kept, quarantine, counts = ingest(HERE / "header_only.csv")
    assert (counts.read, kept.height, quarantine.height) == (0, 0, 0)


def test_missing_required_column_names_the_file_and_the_column():
    with pytest.raises(ReaderError, match=r"line_item_unblended_cost.*missing_unblended_cost\.csv"):
        ingest(HERE / "missing_unblended_cost.csv")


def test_unknown_and_missing_optional_columns_are_tolerated_and_bad_dates_quarantined():
    kept, quarantine, counts = ingest(HERE / "drift_no_line_id.csv")
    assert (counts.read, counts.kept, counts.quarantined) == (3, 2, 1)
    assert quarantine["reason"].to_list() == ["bad_charge_period_start"]
    assert quarantine["line"].to_list() == [4]
    assert kept["list_cost"].to_list() == [None, None]
    assert kept["model"].to_list() == ["llama-4-maverick-17b"] * 2
    assert kept["charge_period_start"].to_list() == [datetime(2026, 5, 1, tzinfo=UTC)] * 2
    # no identity_line_item_id: identical lines get distinct content-hash ids, both kept
    first, second = kept["line_id"].to_list()
    assert len(first) == 32 and second == first + "#2"


def test_the_same_file_delivered_twice_deduplicates(tmp_path):
    report = deliver_twice(HERE / "drift_no_line_id.csv", "aws_cur", tmp_path)
    assert report.rows["billing_lines"] == 2
    assert [(c.kept, c.deduplicated) for c in report.files] == [(2, 0), (0, 2)]


@pytest.mark.parametrize(
    ("usage_type", "product", "expected"),
    [
        ("USE1-Claude2.0-input-tokens", None, ("claude-2.0", "input")),
        ("USE1-Claude4Sonnet-cache-write-input-token-count-1-hour", None, ("claude-sonnet-4", "cache_write")),
        ("USE1-NovaLite-input-tokens-priority", None, ("nova-lite", "input")),
        ("USE1-zai.glm-4.7-output-tokens-batch", None, ("glm-4.7", "output")),
        ("USE1-xai.grok-4.3-mantle-cache-read-tokens-flex", None, ("grok-4.3", "cache_read")),
        ("USW2-MP:USW2_InputTokenCount-Units", "Claude 3 Haiku (Amazon Bedrock Edition)", ("claude-3-haiku", "input")),
        ("USE1-ProvisionedThroughput", "Amazon Bedrock", (None, "other")),
    ],
)
def test_bedrock_usage_types_parse_to_model_and_token_type(usage_type, product, expected):
    assert bedrock_sku(usage_type, product) == expected


def test_sniff_claims_cur_files_only():
    for path in sorted(FIXTURES.glob("*/*")):
        if path.parent.name not in ("aws_cur", "azure_cost", "gcp_billing", "focus"):
            continue
        expected = path.parent.name == "aws_cur" and not path.name.startswith("missing_")
        assert aws_cur.sniff(path, path.read_bytes()[:65536]) is expected, path.name


def build_parquet_fixture(path: Path = HERE / "cur2_bedrock.parquet") -> None:
    """How cur2_bedrock.parquet was made (run once: python tests/test_reader_aws_cur.py)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tags = pa.map_(pa.string(), pa.string())
    t = datetime(2026, 5, 1)
    rows = [
        ("AWS Marketplace", "mp4x2k9q8w7e6r5t4y3u2i1o", "USW2-MP:USW2_output_tokens_standard-Units", 1532.0,
         0.004596, "Usage", t, [("product_name", "Claude 4.6 Sonnet (Amazon Bedrock Edition)")],
         [("user_team", "support")]),
        ("AWS", "AmazonBedrock", "USW2-anthropic.claude-opus-4-8-mantle-cache-write-tokens-global-standard", 30.0,
         0.00022500000000000002, "Usage", t.replace(hour=3), [("product_name", "Amazon Bedrock")], []),
        ("AWS", "AmazonBedrock", "USW2-Claude3Haiku-input-tokens", 0.0, -0.1, "Credit", t, [], None),
        ("AWS", "AmazonS3", "USW2-TimedStorage-ByteHrs", 3.5, 0.0805, "Usage", t, [("product_name", "S3")], []),
    ]  # fmt: skip
    names = ["bill_billing_entity", "line_item_product_code", "line_item_usage_type", "line_item_usage_amount",
             "line_item_unblended_cost", "line_item_line_item_type", "line_item_usage_start_date", "product",
             "resource_tags"]  # fmt: skip
    columns = list(zip(*rows, strict=True))
    types = [pa.string(), pa.string(), pa.string(), pa.float64(), pa.float64(), pa.string(), pa.timestamp("ms"),
             tags, tags]  # fmt: skip
    table = pa.table({n: pa.array(c, type=ty) for n, c, ty in zip(names, columns, types, strict=True)})
    table = table.append_column("line_item_currency_code", pa.array(["USD"] * len(rows)))
    table = table.append_column("identity_line_item_id", pa.array([f"pq-{i}" for i in range(len(rows))]))
    pq.write_table(table, path)


if __name__ == "__main__":
    build_parquet_fixture()
