"""`tokenomics ingest` hands over the lake's rows: attributed and priced exactly as the pipeline does."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from pipelines.cli import main
from tokenomics.config import load_config
from tokenomics.home import Home
from tokenomics.ingest import lake_enrichers, write_day

FIX = Path("tests/fixtures")
SPEND_LOG = FIX / "litellm" / "unpriced_by_gateway.jsonl"
CONFIG = FIX / "config" / "ingest_pricing.yaml"


def _cli_ingest(tmp_path, monkeypatch) -> pl.DataFrame:
    monkeypatch.setenv("TOKENOMICS_CONFIG", str(CONFIG))
    result = CliRunner().invoke(main, ["ingest", str(SPEND_LOG), "--source", "litellm", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    return pl.read_parquet(tmp_path / "out" / "usage_events.parquet").sort("event_id")


def test_ingest_cli_prices_gateway_rows_from_the_catalog_and_overrides(tmp_path, monkeypatch):
    events = _cli_ingest(tmp_path, monkeypatch)
    costs = dict(zip(events["event_id"], events["cost_usd"]))
    assert costs["cli-price-1"] is not None and costs["cli-price-1"] > 0
    assert events.filter(pl.col("event_id") == "cli-price-2")["cost_source"][0] == "override"
    assert costs["cli-price-2"] == Decimal("0.30") * 2 + Decimal("1.20") * Decimal("0.5")
    assert dict(zip(events["event_id"], events["team"])) == {"cli-price-1": "search", "cli-price-2": "growth"}


def test_ingest_cli_rows_equal_the_lake_partition(tmp_path, monkeypatch):
    events = _cli_ingest(tmp_path, monkeypatch)
    home = Home(tmp_path / "home")
    home.root.mkdir()
    day = date(2026, 3, 2)
    enrich = lake_enrichers(load_config(CONFIG))
    write_day(home, day, [("litellm", SPEND_LOG)], ["usage_events"], enrich=enrich)
    lake = pl.read_parquet(home.table_day("usage_events", day) / "part-0.parquet").sort("event_id")
    assert events.drop("source_file").equals(lake.drop("source_file"))


def test_gateway_audio_tokens_are_counted_and_priced_as_audio(tmp_path):
    from tokenomics.config import Config
    from tokenomics.ingest import ingest_files

    ingest_files([FIX / "litellm" / "audio_usage.jsonl"], "litellm", tmp_path, config=Config())
    (row,) = pl.read_parquet(tmp_path / "usage_events.parquet").to_dicts()
    assert (row["input_audio_tokens"], row["output_audio_tokens"]) == (400_000, 500_000)
    # realtime mini: text in 0.60, audio in 10, text out 2.40, audio out 20 per MTok
    assert row["cost_usd"] == Decimal("0.36") + Decimal("4") + Decimal("1.2") + Decimal("10")
