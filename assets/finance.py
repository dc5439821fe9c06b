"""Finance assets: reconcile gateway estimates with the bill, allocate the bill, charge back, budget."""

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from assets.lake import billing_lines, provider_usage, usage_events
from assets.marts import usage_daily
from assets.metadata import markdown_table
from assets.partitions import Refresh, daily_asset, step_days
from assets.resources import TokenomicsHome
from tokenomics.advice.savings import savings_opportunities as find_savings
from tokenomics.advice.tco import self_host_tco as compute_self_host_tco
from tokenomics.finance.allocation import build_allocation_day
from tokenomics.finance.budgets import budget_status_on
from tokenomics.finance.chargeback import build_chargeback_month
from tokenomics.finance.focus_export import write_focus
from tokenomics.finance.reconcile import build_reconciliation_day
from tokenomics.lake import replace_partition
from tokenomics.pricing import unit_prices
from tokenomics.windows import read_mart_month, read_mart_window


def _days(context) -> list[date]:
    return step_days(context)


def _months(days: list[date]) -> list[str]:
    return sorted({d.strftime("%Y-%m") for d in days})


@daily_asset(
    deps=[usage_events, billing_lines, provider_usage],
    group_name="finance",
    kinds={"duckdb", "sql"},
    metadata={"sql": "sql/reconciliation_daily.sql"},
    description=(
        "Does the bill match? Per day, provider, model and token type: gateway-estimated cost, billed "
        "(effective) cost, gap, capture rate, provider-reported vs gateway tokens, and the likely cause of "
        "each gap (outside_gateway, price_difference, cache_miscount, unpriced_model, day_boundary, ...)."
    ),
)
def reconciliation_daily(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home = tokenomics.home
    rows = {str(day): build_reconciliation_day(home, day) for day in _days(context)}
    frame = read_mart_window(home, "reconciliation_daily", _days(context)[-1], _days(context)[-1])
    causes = (
        frame.group_by("likely_cause").agg(pl.col("gap_usd").sum().round(2).alias("gap_usd"), pl.len().alias("rows"))
        if frame.height and "likely_cause" in frame.columns
        else pl.DataFrame()
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(rows.values()),
            "rows_per_day": dg.MetadataValue.json(rows),
            "last_day_causes": markdown_table(causes),
        }
    )


@daily_asset(
    deps=[usage_daily, billing_lines],
    refresh=Refresh("billing_lines", mart=False, within_month=True),
    group_name="finance",
    kinds={"polars"},
    description=(
        "The bill split to teams and features: direct cost from attributed gateway usage plus the residual "
        "(billed minus attributed: untracked traffic, discounts, credits, commitments) spread by the "
        "configured method (allocation.method). Sums to the bill to the cent per provider and month."
    ),
)
def allocation_daily(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home, config = tokenomics.home, tokenomics.config()
    method, weights = config.allocation.method, dict(config.allocation.weights)
    rows = {str(day): build_allocation_day(home, day, method, weights) for day in _days(context)}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(rows.values()),
            "method": method,
            "rows_per_day": dg.MetadataValue.json(rows),
        }
    )


@daily_asset(
    deps=[allocation_daily],
    serialized=True,
    group_name="finance",
    kinds={"duckdb", "sql"},
    metadata={
        "sql": "sql/chargeback_monthly.sql",
        "partitioned_by": "day; each day rebuilds its whole month, month-to-date",
        "published_grain": "month, team (lake/marts/chargeback_monthly/month=YYYY-MM/)",
    },
    description=(
        "Per month and team: direct cost, allocated residual, total, and the share that reconciles to a "
        "bill. A daily asset with monthly rows: materializing day D rebuilds the month containing D from "
        "every allocation_daily day of that month present (month-to-date), so the latest day's partition "
        "holds the current month's figures and a closed month is final once its last day has run. Daily "
        "partitions, not monthly ones, so the nightly run and a UI backfill of any days keep it current "
        "with the rest of the graph. `tokenomics chargeback --month` turns it into statements finance "
        "can forward."
    ),
)
def chargeback_monthly(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home = tokenomics.home
    rows = {month: build_chargeback_month(home, month) for month in _months(_days(context))}
    files = {month: home.mart_month_files("allocation_daily", month) for month in rows}
    through = {month: Path(f[-1]).parent.name.removeprefix("day=") if f else None for month, f in files.items()}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(rows.values()),
            "months": dg.MetadataValue.json(rows),
            "month_to_date_through": dg.MetadataValue.json(through),
        }
    )


@daily_asset(
    deps=[allocation_daily],
    serialized=True,
    group_name="finance",
    kinds={"parquet", "csv"},
    description=(
        "The allocated costs of each touched month as a FOCUS 1.2 file (reports/focus/<month>/, CSV and "
        "Parquet): team and feature in Tags, token type, model, price reference and allocation method in "
        "x_ columns, so FinOps tools that read FOCUS can take them in."
    ),
)
def focus_export(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home, config = tokenomics.home, tokenomics.config()
    written = []
    for month in _months(_days(context)):
        allocation = read_mart_month(home, "allocation_daily", month)
        if allocation.height == 0:
            continue
        written += write_focus(
            allocation,
            home.reports / "focus" / month,
            stem=f"focus-1.2_allocated_{month}",
            unit_prices=lambda p, m, d: unit_prices(p, m, d, prices=config.prices),
        )
    return dg.MaterializeResult(metadata={"files": dg.MetadataValue.json([str(p) for p in written])})


@daily_asset(
    deps=[allocation_daily],
    refresh=Refresh("allocation_daily", within_month=True),
    group_name="finance",
    kinds={"polars"},
    description=(
        "Monthly budgets from tokenomics.yaml against bill-true spend (allocation_daily totals): "
        "month-to-date, a weekday-seasonal month-end forecast, percent used and thresholds crossed "
        "(default 50/80/100%). Each crossing raises one alert per team, month and threshold."
    ),
)
def budget_status(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home, config = tokenomics.home, tokenomics.config()
    rows = 0
    for day in _days(context):
        status = budget_status_on(home, config.budgets, day)
        replace_partition(home.mart_day("budget_status", day), status)
        rows += status.height
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "budgets": len(config.budgets)})


SAVINGS_WINDOW_DAYS = 30


@daily_asset(
    deps=[usage_daily],
    refresh=Refresh("usage_daily", days_after=SAVINGS_WINDOW_DAYS - 1),
    group_name="finance",
    kinds={"polars"},
    description=(
        "What would change save? Per team, feature and model over the trailing 30 days: a smaller model "
        "of the same family, prompt caching, the batch API; current and estimated monthly cost, savings, "
        "the assumption in one line and a confidence. Priced with the same catalog and overrides."
    ),
)
def savings_opportunities(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home, config = tokenomics.home, tokenomics.config()
    rows, top = 0, pl.DataFrame()
    for day in _days(context):
        usage = read_mart_window(home, "usage_daily", day, day, lookback_days=SAVINGS_WINDOW_DAYS - 1)
        found = (
            find_savings(usage, as_of=day, window_days=SAVINGS_WINDOW_DAYS, prices=config.prices)
            if usage.height
            else pl.DataFrame()
        )
        replace_partition(home.mart_day("savings_opportunities", day), found)
        rows, top = rows + found.height, found
    preview = (
        top.head(10).select("team", "feature", "model", "opportunity", "monthly_savings_usd", "assumption")
        if top.height
        else top
    )
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "top_opportunities": markdown_table(preview)})


@daily_asset(
    deps=[usage_daily],
    refresh=Refresh("usage_daily", days_after=SAVINGS_WINDOW_DAYS - 1),
    group_name="finance",
    kinds={"polars"},
    description=(
        "Would self-hosting on our own GPUs be cheaper? Per candidate open model and utilisation: the API "
        "traffic it could take over, API cost today, GPUs needed for the peak day, monthly self-host cost "
        "(amortisation, power, opex), break-even volume and a one-line verdict. Assumptions: tco section "
        "of tokenomics.yaml."
    ),
)
def self_host_tco(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home, config = tokenomics.home, tokenomics.config()
    rows, verdicts = 0, []
    for day in _days(context):
        usage = read_mart_window(home, "usage_daily", day, day, lookback_days=SAVINGS_WINDOW_DAYS - 1)
        found = (
            compute_self_host_tco(usage, config.tco, as_of=day, window_days=SAVINGS_WINDOW_DAYS, prices=config.prices)
            if usage.height
            else pl.DataFrame()
        )
        replace_partition(home.mart_day("self_host_tco", day), found)
        rows += found.height
        verdicts = found["verdict"].to_list() if found.height else []
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "verdicts": dg.MetadataValue.json(verdicts)})
