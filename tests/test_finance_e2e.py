"""Issue 5 end to end: gaps get their true causes, allocation sums to the bill, budgets forecast well."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import polars as pl

from tokenomics.config import load_config
from tokenomics.finance.budgets import budget_status_on


def _sql(home, query: str) -> pl.DataFrame:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.sql(query).pl()
    finally:
        con.close()


def test_gateway_bypassing_traffic_is_named_as_the_cause_of_its_gap(company):
    truth = pl.read_parquet(company.truth / "usage_daily.parquet")
    bypassed = set(truth.filter(~pl.col("via_gateway")).select("day", "provider").unique().iter_rows())
    recon = _sql(company, "SELECT * FROM reconciliation_daily")
    named = recon.filter(
        (pl.col("likely_cause") == "outside_gateway") | pl.col("cause_detail").str.contains("outside (the )?gateway")
    )
    flagged = set(named.select("day", "provider").unique().iter_rows())
    assert flagged <= bypassed  # never blamed where nothing bypassed the gateway
    assert len(flagged) >= 0.9 * len(bypassed)  # the rest are gaps under the $0.001 tolerance
    assert {p for _, p in flagged} == {p for _, p in bypassed}


def test_negotiated_discount_is_named_as_a_price_difference(company):
    recon = _sql(company, "SELECT * FROM reconciliation_daily WHERE gateway_cost_usd > 0")
    azure = recon.filter(pl.col("provider") == "azure_openai")
    assert azure.height > 0
    assert (azure["price_difference_usd"] < 0).all()  # billed below list: the 15% discount
    named = (azure["likely_cause"] == "price_difference") | azure["cause_detail"].str.contains("price difference")
    assert named.all()
    list_priced = recon.filter(pl.col("provider").is_in(["openai", "anthropic"]))
    ratio = (list_priced["price_difference_usd"].abs().sum()) / list_priced["billed_cost_usd"].sum()
    assert ratio < Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_allocated_totals_per_month_equal_the_bill_to_the_cent(company):
    truth = pl.read_parquet(company.truth / "billing_daily.parquet").with_columns(
        pl.col("day").dt.strftime("%Y-%m").alias("month")
    )
    bills = truth.group_by("month", "provider").agg(pl.col("billed_cost_usd").sum()).sort("month", "provider")
    allocated = _sql(
        company,
        "SELECT strftime(day, '%Y-%m') AS month, provider, sum(total_cost_usd) AS total "
        "FROM allocation_daily GROUP BY ALL ORDER BY ALL",
    )
    joined = bills.join(allocated, on=["month", "provider"], how="full", coalesce=True)
    for row in joined.iter_rows(named=True):
        assert row["total"] == _cents(row["billed_cost_usd"]), row
    chargeback = _sql(company, "SELECT month, sum(total_cost_usd) AS total FROM chargeback_monthly GROUP BY ALL")
    per_month = allocated.group_by("month").agg(pl.col("total").sum())
    assert chargeback.sort("month")["total"].to_list() == per_month.sort("month")["total"].to_list()


def test_month_end_forecast_from_20_days_is_within_10_percent(sixty_days):
    config = load_config(sixty_days.config_file)
    status = budget_status_on(sixty_days, config.budgets, date(2026, 3, 20)).filter(pl.col("feature").is_null())
    actual = _sql(
        sixty_days,
        "SELECT team, sum(total_cost_usd) AS actual FROM allocation_daily "
        "WHERE day BETWEEN DATE '2026-03-01' AND DATE '2026-03-31' GROUP BY team",
    )
    joined = status.join(actual, on="team")
    assert joined.height == status.height >= 4
    forecast, truth = joined["forecast_usd"].sum(), joined["actual"].sum()
    assert abs(forecast - truth) / truth <= Decimal("0.10"), (forecast, truth)
