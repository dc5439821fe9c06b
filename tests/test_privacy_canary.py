"""Canary: bodies, API keys and raw end-user ids placed in the logs never reach any file in the home."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipelines.runner import run_days
from tokenomics.home import Home

DAY = date(2026, 4, 7)
MARKERS = ["CANARY-PROMPT-7f3a9", "CANARY-RESPONSE-c0ffee", "CANARYKEY", "customer-42@example.com"]


def _texts_in(path: Path) -> list[str]:
    """Every string a file holds, decompressed: Parquet and DuckDB are read, other files taken as bytes."""
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        return [str(v) for col in frame.columns for v in frame[col].to_list()]
    if path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            texts = []
            for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                texts += [str(r) for r in con.execute(f'SELECT * FROM "{table}"').fetchall()]
            return texts
        finally:
            con.close()
    return [path.read_bytes().decode("utf-8", errors="ignore")]


def test_no_body_key_or_raw_user_id_reaches_the_home(tmp_path, fixtures):
    home = Home(tmp_path)
    for source, name in (("litellm", "canary_spend_logs.jsonl"), ("otel", "canary_traces.jsonl")):
        folder = home.landing_day(source, DAY)
        folder.mkdir(parents=True)
        shutil.copy(fixtures / "pipeline" / name, folder / name)
    result = run_days(home, DAY, DAY, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    events = pl.read_parquet(home.table_day("usage_events", DAY) / "*.parquet")
    assert events.height == 4  # the canary rows themselves landed: the test checks real output
    leaks = []
    for path in home.root.rglob("*"):
        if not path.is_file() or home.landing in path.parents:
            continue
        for text in _texts_in(path):
            leaks += [(str(path), m) for m in MARKERS if m in text]
    assert leaks == []
