"""Run the SQL model of a published table (sql/<name>.sql) and write its day partition atomically."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import duckdb
import polars as pl

from tokenomics.home import Home
from tokenomics.lake import swap_in


def _sql_folder() -> Traversable:
    """Where the SQL models are: package data when installed, the checkout's sql/ when run from source.

    `sql/` at the top of the repository is the one source: setup.py maps it onto the data-only package
    `tokenomics.sql`, so an installed wheel (or an editable install) reads the same files through
    importlib.resources. A bare checkout on PYTHONPATH has no such package; it reads the folder itself.
    """
    try:
        return resources.files("tokenomics.sql")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "sql"


SQL_DIR = _sql_folder()


def sql_text(name: str) -> str:
    """The text of sql/<name>.sql (one file per published table)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def connect() -> duckdb.DuckDBPyConnection:
    """A private DuckDB connection with the shared macros of sql/macros/ (e.g. model_key) defined."""
    con = duckdb.connect()
    macros = SQL_DIR / "macros"
    for macro in sorted((m for m in macros.iterdir() if m.name.endswith(".sql")), key=lambda m: m.name):
        con.execute(macro.read_text(encoding="utf-8"))
    return con


def sql_frame(name: str, params: dict) -> pl.DataFrame:
    """sql/<name>.sql with DuckDB named parameters, on a private connection, as a Polars frame.

    Goes through Arrow so exact DECIMAL columns stay Polars Decimal (never float).
    """
    con = connect()
    try:
        frame = pl.from_arrow(con.sql(sql_text(name).rstrip().rstrip(";"), params=params).to_arrow_table())
    finally:
        con.close()
    assert isinstance(frame, pl.DataFrame)  # a table converts to a frame, never a Series
    return frame


def build_mart_day(home: Home, name: str, day: date | str, params: dict) -> int:
    """Replace lake/marts/<name>/day=<day>/ with the result of sql/<name>.sql; returns row count."""
    target = home.mart_day(name, day)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        con = connect()
        body = sql_text(name).rstrip().rstrip(";")
        con.execute(f"COPY ({body}) TO '{tmp / 'part-0.parquet'}' (FORMAT parquet, COMPRESSION zstd)", params)
        (rows,) = con.execute("SELECT count(*) FROM read_parquet(?)", [str(tmp / "part-0.parquet")]).fetchone() or (0,)
        con.close()
        swap_in(tmp, target)
        return int(rows)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
