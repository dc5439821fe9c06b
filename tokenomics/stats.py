"""Headline numbers of a lake partition, for asset metadata and the CLI summary."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb


def usage_partition_stats(folder: Path) -> dict:
    """Rows, tokens, cost, unattributed cost share and unpriced rows of one usage_events day."""
    files = str(folder / "*.parquet")
    row = duckdb.execute(
        """
        SELECT count(*), coalesce(sum(input_tokens + output_tokens), 0),
               coalesce(sum(cost_usd), 0)::DECIMAL(38, 12),
               coalesce(sum(cost_usd) FILTER (WHERE team = 'unattributed'), 0)::DECIMAL(38, 12),
               count(*) FILTER (WHERE cost_source = 'unpriced'),
               count(*) FILTER (WHERE team = 'unattributed')
        FROM read_parquet(?)
        """,
        [files],
    ).fetchone()
    assert row is not None  # an aggregate query always returns one row
    rows, tokens, cost, unattributed_cost, unpriced, unattributed_rows = row
    cost = Decimal(cost)
    return {
        "rows": int(rows),
        "tokens": int(tokens),
        "cost_usd": cost,
        "unattributed_cost_share": float(Decimal(unattributed_cost) / cost) if cost else 0.0,
        "unattributed_rows": int(unattributed_rows),
        "unpriced_rows": int(unpriced),
    }


def billing_partition_stats(folder: Path) -> dict:
    """Rows and billed/effective totals of one billing_lines day, per currency."""
    files = str(folder / "*.parquet")
    rows = duckdb.execute(
        "SELECT billing_currency, count(*), coalesce(sum(billed_cost), 0), coalesce(sum(effective_cost), 0) "
        "FROM read_parquet(?) GROUP BY 1 ORDER BY 1",
        [files],
    ).fetchall()
    return {
        "rows": sum(r[1] for r in rows),
        "by_currency": {r[0]: {"billed": Decimal(r[2]), "effective": Decimal(r[3])} for r in rows},
    }
