"""Run a sql/<name>.sql model into a Polars frame (exact DECIMAL columns kept as Polars Decimal)."""

from __future__ import annotations

import duckdb
import polars as pl

from tokenomics.marts import sql_text


def sql_frame(name: str, params: dict) -> pl.DataFrame:
    """sql/<name>.sql with DuckDB named parameters, on a private connection, as a Polars frame."""
    con = duckdb.connect()
    try:
        table = con.sql(sql_text(name).rstrip().rstrip(";"), params=params).to_arrow_table()
        return pl.from_arrow(table)
    finally:
        con.close()
