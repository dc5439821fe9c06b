"""Run the SQL model of a published table (sql/<name>.sql) and write its day partition atomically."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from tokenomics.home import Home
from tokenomics.lake import swap_in

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def sql_text(name: str) -> str:
    """The text of sql/<name>.sql (one file per published table)."""
    return (SQL_DIR / f"{name}.sql").read_text()


def sql_frame(name: str, params: dict) -> pl.DataFrame:
    """sql/<name>.sql with DuckDB named parameters, on a private connection, as a Polars frame.

    Goes through Arrow so exact DECIMAL columns stay Polars Decimal (never float).
    """
    con = duckdb.connect()
    try:
        return pl.from_arrow(con.sql(sql_text(name).rstrip().rstrip(";"), params=params).to_arrow_table())
    finally:
        con.close()


def build_mart_day(home: Home, name: str, day: date | str, params: dict) -> int:
    """Replace lake/marts/<name>/day=<day>/ with the result of sql/<name>.sql; returns row count."""
    target = home.mart_day(name, day)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        con = duckdb.connect()
        body = sql_text(name).rstrip().rstrip(";")
        con.execute(f"COPY ({body}) TO '{tmp / 'part-0.parquet'}' (FORMAT parquet, COMPRESSION zstd)", params)
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(tmp / "part-0.parquet")]).fetchone()[0]
        con.close()
        swap_in(tmp, target)
        return int(rows)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
