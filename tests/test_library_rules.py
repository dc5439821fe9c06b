"""Rules the finance and insight assets used to hold, now plain library functions tested on frames and a tmp lake."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl

from tokenomics.alerts.model import alerts_from_budget_status
from tokenomics.anomalies.metrics import configured_metrics, default_metrics
from tokenomics.finance.budgets import STATUS_SCHEMA, BudgetSpec, budget_status_from_allocation, budget_status_on
from tokenomics.home import Home
from tokenomics.schema import MONEY
from tokenomics.windows import read_mart_month

ALLOCATION = {"day": pl.Date, "team": pl.String, "feature": pl.String, "total_cost_usd": MONEY}
SEARCH = BudgetSpec(team="search", monthly_usd=Decimal("100"))


def _allocation(rows: list[tuple[date, str, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame([(d, t, f, Decimal(c)) for d, t, f, c in rows], schema=ALLOCATION, orient="row")


def _write_days(home: Home, mart: str, frame: pl.DataFrame) -> None:
    for (day,), part in frame.partition_by("day", as_dict=True).items():
        folder = home.mart_day(mart, day)
        folder.mkdir(parents=True)
        part.write_parquet(folder / "part-0.parquet")


def test_a_month_of_a_mart_is_its_days_and_no_neighbour(tmp_path):
    home = Home(tmp_path)
    days = [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1)]
    _write_days(home, "allocation_daily", _allocation([(d, "search", None, "1") for d in days]))
    march = read_mart_month(home, "allocation_daily", "2026-03")
    assert march["day"].to_list() == [date(2026, 3, 1), date(2026, 3, 31)]
    assert read_mart_month(home, "allocation_daily", "2026-05").height == 0


def test_budget_status_counts_direct_and_residual_spend_together():
    allocation = _allocation(
        [
            (date(2026, 3, 2), "search", "chat", "30"),  # direct
            (date(2026, 3, 2), "search", None, "25"),  # allocated residual
        ]
    )
    (row,) = budget_status_from_allocation(allocation, [SEARCH], date(2026, 3, 2)).iter_rows(named=True)
    assert row["mtd_spend_usd"] == Decimal("55") and row["thresholds_crossed"] == [50]


def test_budget_status_without_budgets_or_spend_is_an_empty_table():
    allocation = _allocation([(date(2026, 3, 2), "search", None, "30")])
    assert budget_status_from_allocation(allocation, [], date(2026, 3, 2)).schema == pl.Schema(STATUS_SCHEMA)
    assert budget_status_from_allocation(allocation.clear(), [SEARCH], date(2026, 3, 2)).height == 0


def test_budget_status_on_a_day_reads_the_lake_through_that_day_only(tmp_path):
    home = Home(tmp_path)
    _write_days(
        home,
        "allocation_daily",
        _allocation(
            [
                (date(2026, 2, 27), "search", None, "40"),  # last month: history for the forecast, not spend
                (date(2026, 3, 1), "search", None, "10"),
                (date(2026, 3, 2), "search", None, "20"),
                (date(2026, 3, 3), "search", None, "70"),  # after the day asked about
            ]
        ),
    )
    (row,) = budget_status_on(home, [SEARCH], date(2026, 3, 2)).iter_rows(named=True)
    assert row["mtd_spend_usd"] == Decimal("30")


def test_a_threshold_crossed_on_several_days_is_one_alert_dated_the_first():
    spend = _allocation([(date(2026, 3, 1) + timedelta(days=i), "search", None, "30") for i in range(3)])
    status = pl.concat([budget_status_from_allocation(spend, [SEARCH], date(2026, 3, d)) for d in (2, 3)])
    alerts = alerts_from_budget_status(status)
    by_key = {a.key: a for a in alerts}
    assert len(by_key) == len(alerts)
    fifty = next(a for a in alerts if a.facts["threshold"] == "50%")
    assert (fifty.day, fifty.team, fifty.kind) == (date(2026, 3, 2), "search", "budget")
    assert alerts_from_budget_status(pl.DataFrame(schema=STATUS_SCHEMA)) == []


def test_anomaly_knobs_of_the_config_tune_the_cost_metric_only():
    assert configured_metrics({}) == configured_metrics(None) == default_metrics()
    tuned = {m.name: m for m in configured_metrics({"threshold": 9.0, "min_abs_impact": 5.0})}
    default = {m.name: m for m in default_metrics()}
    assert (tuned["cost"].params.threshold, tuned["cost"].params.min_abs_impact) == (9.0, 5.0)
    assert all(tuned[name] == default[name] for name in default if name != "cost")
