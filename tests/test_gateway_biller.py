"""A reselling gateway (OpenRouter) is the biller: its reported cost is the bill, the vendor is a column."""

from decimal import Decimal
from pathlib import Path

import polars as pl

from tokenomics.config import Config
from tokenomics.finance.reconcile import reconciliation_frame
from tokenomics.ingest import ingest_files
from tokenomics.schema import TABLES

FIX = Path("tests/fixtures")
RESOLD = FIX / "openrouter" / "resold_vendors.csv"
ANTHROPIC_BILL = FIX / "anthropic_cost" / "cost_report.json"


def _ingest(tmp_path, *files) -> Path:
    out = tmp_path / "out"
    ingest_files(list(files), "auto", out, config=Config())
    return out


def test_openrouter_rows_bill_to_openrouter_and_keep_the_vendor(tmp_path):
    events = pl.read_parquet(_ingest(tmp_path, RESOLD) / "usage_events.parquet").sort("event_id")
    assert set(events["provider"]) == {"openrouter"}
    assert sorted(events["vendor"]) == ["anthropic", "meta-llama", "meta-llama"]
    assert "other" not in events["vendor"].to_list()


def test_openrouter_reported_cost_is_the_cost_even_where_the_catalog_prices_the_model(tmp_path):
    events = pl.read_parquet(_ingest(tmp_path, RESOLD) / "usage_events.parquet")
    assert events["cost_usd"].to_list() == events["reported_cost_usd"].to_list()
    assert set(events["cost_source"]) == {"reported"} and set(events["price_ref"]) == {"billed:openrouter"}
    claude = events.filter(pl.col("vendor") == "anthropic")
    assert claude["cost_usd"][0] == Decimal("0.0275") and claude["model_id"][0] is not None


def test_openrouter_spend_reconciles_against_openrouter_not_the_vendors_bill(tmp_path):
    out = _ingest(tmp_path, RESOLD, ANTHROPIC_BILL)
    empty = tmp_path / "provider_usage.parquet"
    pl.DataFrame(schema=TABLES["provider_usage"]).write_parquet(empty)
    recon = reconciliation_frame(out / "usage_events.parquet", out / "billing_lines.parquet", empty)
    anthropic = recon.filter(pl.col("provider") == "anthropic")
    assert anthropic.height > 0 and anthropic["gateway_cost_usd"].fill_null(0).sum() == 0
    openrouter = recon.filter(pl.col("provider") == "openrouter")
    assert openrouter["gateway_cost_usd"].sum() == Decimal("0.02792")
