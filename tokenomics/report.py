"""The short summary a person reads after a run: spend by team, top features and models, data health."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl


@dataclass
class Summary:
    month: str
    total_cost_usd: float
    by_team: pl.DataFrame
    top_features: pl.DataFrame
    top_models: pl.DataFrame
    unattributed_share: float
    unpriced_share: float
    days: int


def summarize(warehouse: Path) -> Summary:
    """Read-only queries over the published warehouse (the same file BI tools read)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        month = con.execute("SELECT strftime(max(day), '%Y-%m') FROM usage_daily").fetchall()[0][0]
        scope = "strftime(day, '%Y-%m') = ?"
        by_team = con.sql(
            f"SELECT team, round(sum(cost_usd), 2)::DOUBLE AS cost_usd, sum(requests) AS requests, "
            f"sum(input_tokens + output_tokens) AS tokens FROM usage_daily WHERE {scope} "
            "GROUP BY team ORDER BY cost_usd DESC",
            params=[month],
        ).pl()
        top_features = con.sql(
            f"SELECT team, feature, round(sum(cost_usd), 2)::DOUBLE AS cost_usd FROM usage_daily WHERE {scope} "
            "GROUP BY ALL ORDER BY cost_usd DESC LIMIT 5",
            params=[month],
        ).pl()
        top_models = con.sql(
            f"SELECT provider, model, round(sum(cost_usd), 2)::DOUBLE AS cost_usd, sum(requests) AS requests "
            f"FROM usage_daily WHERE {scope} GROUP BY ALL ORDER BY cost_usd DESC LIMIT 5",
            params=[month],
        ).pl()
        total, unattributed, requests, unpriced, days = con.execute(
            f"SELECT sum(cost_usd)::DOUBLE, coalesce(sum(cost_usd) FILTER (WHERE team = 'unattributed'), 0)::DOUBLE, "
            f"sum(requests), sum(unpriced_requests), (SELECT count(DISTINCT day) FROM usage_daily) "
            f"FROM usage_daily WHERE {scope}",
            [month],
        ).fetchall()[0]
    finally:
        con.close()
    return Summary(
        month=month,
        total_cost_usd=total or 0.0,
        by_team=by_team,
        top_features=top_features,
        top_models=top_models,
        unattributed_share=(unattributed / total) if total else 0.0,
        unpriced_share=(unpriced / requests) if requests else 0.0,
        days=days,
    )


def summary_markdown(summary: Summary) -> str:
    """The same summary as a Markdown report (written to <home>/reports/summary.md)."""

    def table(frame: pl.DataFrame) -> str:
        return frame.to_pandas().to_markdown(index=False) if frame.height else "_none_"

    return "\n\n".join(
        [
            f"# Tokenomics summary: {summary.month}",
            f"Total cost this month: **${summary.total_cost_usd:,.2f}** over {summary.days} published days. "
            f"Unattributed share of cost: {summary.unattributed_share:.1%}. "
            f"Unpriced share of requests: {summary.unpriced_share:.2%}.",
            "## Cost by team", table(summary.by_team),
            "## Top features", table(summary.top_features),
            "## Top models", table(summary.top_models),
        ]
    )
