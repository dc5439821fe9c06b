"""Publish the BI warehouse: build a fresh DuckDB file from the lake marts and swap it in atomically.

DuckDB allows one writer per file and a BI tool holding warehouse.duckdb open blocks any writer, so
the pipeline never writes the published file in place: it builds `warehouse.duckdb.<id>.building`
beside it and `os.replace`s it over the old one. Readers that hold the old file keep a consistent
snapshot; new connections see the new tables. Every table and column carries its comment from
tokenomics/tables.yaml, and flat views (incident_root_causes, budget_thresholds, ...) serve BI tools
that cannot read lists or structs.
"""

from __future__ import annotations

import glob
import os
import uuid
from pathlib import Path

import duckdb

from tokenomics.home import Home
from tokenomics.tables import document_warehouse

QUARANTINE_GLOB = "quarantine/*/*/*.parquet"


def _has_files(pattern: str) -> bool:
    return bool(glob.glob(pattern))


def publish(home: Home, marts: list[str], extra_tables: dict[str, str] | None = None) -> dict[str, int]:
    """Rebuild warehouse.duckdb from every day of each mart; returns rows per published table.

    `extra_tables` maps a table name to a Parquet glob outside lake/marts (e.g. ledgers).
    A mart with no partitions yet is published as an empty table only if a schema is known; else skipped.
    """
    home.root.mkdir(parents=True, exist_ok=True)
    building = home.warehouse.with_name(f"{home.warehouse.name}.{uuid.uuid4().hex[:8]}.building")
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(building))
        sources = {m: home.mart_glob(m) for m in marts}
        sources.update(extra_tables or {})
        for table, pattern in sources.items():
            if not _has_files(pattern):
                continue
            con.execute(
                f'CREATE TABLE "{table}" AS SELECT * FROM read_parquet(?, union_by_name = true, hive_partitioning = false)',
                [pattern],
            )
            counts[table] = _count(con, table)
        qglob = str(home.root / QUARANTINE_GLOB)
        if _has_files(qglob):
            con.execute(
                'CREATE TABLE quarantine AS SELECT "table", day, source, source_file AS file, line, reason, raw '
                "FROM read_parquet(?, union_by_name = true, hive_partitioning = false)",
                [qglob],
            )
            counts["quarantine"] = _count(con, "quarantine")
        document_warehouse(con)  # comments from tokenomics/tables.yaml, flat views for BI tools
        con.execute("CHECKPOINT")
        con.close()
        os.replace(building, home.warehouse)
        return counts
    finally:
        for leftover in (building, Path(f"{building}.wal")):
            if leftover.exists():
                leftover.unlink()


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    (rows,) = con.execute(f'SELECT count(*) FROM "{table}"').fetchone() or (0,)
    return int(rows)
