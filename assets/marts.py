"""Mart assets: one DuckDB SQL file per published table, run per day into lake/marts/<table>/day=D/."""

import dagster as dg

from assets.lake import billing_lines, usage_events
from assets.partitions import daily_asset
from assets.resources import TokenomicsHome
from tokenomics.marts import build_mart_day


def _day_glob(home, table: str, key: str) -> str:
    return str(home.table_day(table, key) / "*.parquet")


def _sql_mart(name: str, upstream, param: str, description: str):
    @daily_asset(
        name=name,
        deps=[upstream],
        group_name="marts",
        kinds={"duckdb", "sql", "parquet"},
        description=description,
        metadata={"sql": f"sql/{name}.sql"},
    )
    def _asset(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
        home = tokenomics.home
        rows = {
            key: build_mart_day(home, name, key, {param: _day_glob(home, upstream.key.path[-1], key)})
            for key in context.partition_keys
        }
        return dg.MaterializeResult(
            metadata={"dagster/row_count": sum(rows.values()), "rows_per_day": dg.MetadataValue.json(rows)}
        )

    return _asset


usage_daily = _sql_mart(
    "usage_daily",
    usage_events,
    "events",
    "Requests, tokens, errors and cost per day, team, feature, provider and model (sql/usage_daily.sql).",
)
billing_daily = _sql_mart(
    "billing_daily",
    billing_lines,
    "lines",
    "Billed, effective and list cost per day, provider, currency, model and token type (sql/billing_daily.sql).",
)

MARTS = [
    "usage_daily",
    "billing_daily",
    "reconciliation_daily",
    "allocation_daily",
    "chargeback_monthly",
    "budget_status",
    "savings_opportunities",
    "self_host_tco",
    "data_quality",
    "anomalies",
    "incidents",
    "alerts",
]
"""Every table published to warehouse.duckdb, each from lake/marts/<name>/<partition>/."""
