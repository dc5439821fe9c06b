"""Read every published table of a warehouse, in a stable order, for comparisons across runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

VOLATILE = {
    "alerts": ("first_seen_at", "last_attempt_at", "sent_at", "created_at", "updated_at"),
    "data_quality": ("checked_at",),
}
"""Wall-clock columns: when a run happened, not what it found."""


def published_tables(warehouse: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        tables = {}
        for name in sorted(names):
            frame = con.sql(f'SELECT * FROM "{name}"').pl()
            frame = frame.drop([c for c in VOLATILE.get(name, ()) if c in frame.columns])
            if "source_file" in frame.columns:
                frame = frame.with_columns(pl.col("source_file").str.replace(r"^.*/landing/", "landing/"))
            if "file" in frame.columns:
                frame = frame.with_columns(pl.col("file").str.replace(r"^.*/landing/", "landing/"))
            sortable = [c for c, t in frame.schema.items() if not isinstance(t, (pl.List, pl.Struct, pl.Array))]
            tables[name] = frame.sort(sortable, nulls_last=True) if sortable else frame
        return tables
    finally:
        con.close()


def assert_same_tables(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    assert sorted(left) == sorted(right)
    for name in left:
        a, b = left[name], right[name]
        assert a.columns == b.columns, name
        assert a.height == b.height, (name, a.height, b.height)
        assert a.equals(b), f"{name} differs"
