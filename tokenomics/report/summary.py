"""The short summary a person reads after a run: spend by team, top features and models, data health."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    bill_match: pl.DataFrame = field(
        default_factory=pl.DataFrame
    )  # per provider: billed, gateway estimate, capture rate, main cause
    budgets: pl.DataFrame = field(default_factory=pl.DataFrame)  # latest budget_status rows
    incidents: pl.DataFrame = field(default_factory=pl.DataFrame)  # this month's anomaly incidents


EXTRAS = {
    "reconciliation_daily": """
        WITH month AS (SELECT * FROM reconciliation_daily WHERE strftime(day, '%Y-%m') = ?),
        causes AS (
            SELECT provider, likely_cause, abs(sum(gap_usd)) AS weight FROM month
            WHERE likely_cause <> 'matched' GROUP BY ALL
        )
        SELECT provider, round(sum(billed_cost_usd), 2)::DOUBLE AS billed_usd,
               round(sum(gateway_cost_usd), 2)::DOUBLE AS gateway_usd,
               round(sum(gateway_cost_usd) / nullif(sum(billed_cost_usd), 0), 3)::DOUBLE AS capture_rate,
               (SELECT arg_max(c.likely_cause, c.weight) FROM causes c WHERE c.provider = m.provider) AS main_cause
        FROM month m GROUP BY provider ORDER BY billed_usd DESC""",
    "budget_status": """
        SELECT team, coalesce(feature, '') AS feature, round(budget_usd, 2)::DOUBLE AS budget_usd,
               round(mtd_spend_usd, 2)::DOUBLE AS spent_usd, round(forecast_usd, 2)::DOUBLE AS forecast_usd,
               pct_used::DOUBLE AS pct_used, status
        FROM budget_status WHERE left(CAST(month AS VARCHAR), 7) = ? AND as_of = (SELECT max(as_of) FROM budget_status)
        ORDER BY pct_used DESC""",
    "incidents": """
        SELECT day, team, severity, explanation FROM incidents
        WHERE strftime(day, '%Y-%m') = ? ORDER BY day DESC LIMIT 5""",
}
"""What else the summary shows when those tables are published: does the bill match, budgets, incidents."""


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
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        extras = {name: con.sql(sql, params=[month]).pl() for name, sql in EXTRAS.items() if name in tables}
    finally:
        con.close()
    return Summary(
        bill_match=extras.get("reconciliation_daily", pl.DataFrame()),
        budgets=extras.get("budget_status", pl.DataFrame()),
        incidents=extras.get("incidents", pl.DataFrame()),
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
            "## Cost by team",
            table(summary.by_team),
            "## Top features",
            table(summary.top_features),
            "## Top models",
            table(summary.top_models),
            "## Does the bill match? (this month)",
            table(summary.bill_match),
            "## Budgets",
            table(summary.budgets),
            "## Latest anomaly incidents",
            table(summary.incidents),
        ]
    )
