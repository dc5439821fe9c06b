"""Budgets: month-to-date spend, the seasonal month-end forecast, thresholds and their alert events."""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from tokenomics.config import Budget
from tokenomics.finance.budgets import BudgetSpec, budget_alert_events, budget_status
from tokenomics.schema import MONEY


def seasonal_spend(
    start: date,
    end: date,
    *,
    growth: float,
    noise: float = 0.0,
    seed: int = 3,
    team: str = "search",
    feature: str = "answers",
) -> pl.DataFrame:
    """Weekdays ~$100, weekends ~$35, compounding daily growth, optional multiplicative noise."""
    rng = random.Random(seed)
    rows, day, i = [], start, 0
    while day <= end:
        base = 100 if day.weekday() < 5 else 35
        value = base * (1 + growth) ** i * (1 + rng.uniform(-noise, noise))
        rows.append({"day": day, "team": team, "feature": feature, "cost_usd": Decimal(str(round(value, 6)))})
        day, i = day + timedelta(days=1), i + 1
    return pl.DataFrame(rows, schema={"day": pl.Date, "team": pl.String, "feature": pl.String, "cost_usd": MONEY})


def month_total(spend: pl.DataFrame, year: int, month: int) -> Decimal:
    last = calendar.monthrange(year, month)[1]
    return spend.filter(pl.col("day").is_between(date(year, month, 1), date(year, month, last)))["cost_usd"].sum()


@pytest.mark.parametrize(
    "growth, noise, history_from",
    [
        (0.0, 0.0, date(2026, 2, 1)),
        (0.01, 0.0, date(2026, 2, 1)),
        (0.02, 0.0, date(2026, 2, 1)),
        (0.01, 0.15, date(2026, 2, 1)),
        (0.01, 0.0, date(2026, 3, 1)),  # no history before the month
        (-0.01, 0.1, date(2026, 3, 1)),
    ],
)
def test_forecast_from_the_first_20_days_is_within_10_percent_of_the_month(growth, noise, history_from):
    spend = seasonal_spend(history_from, date(2026, 3, 31), growth=growth, noise=noise)
    truth = month_total(spend, 2026, 3)
    row = budget_status(spend, [BudgetSpec("search", Decimal(5000))], date(2026, 3, 20)).row(0, named=True)
    assert abs(row["forecast_usd"] - truth) / truth < Decimal("0.10"), (row["forecast_usd"], truth)


def test_weekday_seasonality_beats_a_straight_line():
    # the 20th is a Friday: 6 weekdays and 5 weekend days remain
    spend = seasonal_spend(date(2026, 2, 1), date(2026, 3, 31), growth=0.0)
    row = budget_status(spend, [BudgetSpec("search", Decimal(5000))], date(2026, 3, 20)).row(0, named=True)
    assert row["forecast_usd"] == month_total(spend, 2026, 3).quantize(Decimal("0.01"))
    assert row["weekly_growth"] == Decimal(1)


@pytest.mark.parametrize("growth, forecast", [(0.01, "3827.53"), (0.02, "5832.77"), (-0.01, "1655.13")])
def test_the_weekly_trend_is_measured_exactly_and_damped_going_forward(growth, forecast):
    spend = seasonal_spend(date(2026, 2, 1), date(2026, 3, 31), growth=growth)
    row = budget_status(spend, [BudgetSpec("search", Decimal(5000))], date(2026, 3, 20)).row(0, named=True)
    assert row["weekly_growth"] == Decimal(str(round((1 + growth) ** 7, 4)))
    assert row["forecast_usd"] == Decimal(forecast)
    truth = month_total(spend, 2026, 3)
    assert Decimal("0.97") < row["forecast_usd"] / truth < Decimal("1.03")


def test_a_team_that_started_this_month_is_forecast_from_its_own_days():
    spend = seasonal_spend(date(2026, 3, 9), date(2026, 3, 31), growth=0.0)
    row = budget_status(
        pl.concat([spend, seasonal_spend(date(2026, 2, 1), date(2026, 3, 31), growth=0.0, team="legal")]),
        [BudgetSpec("search", Decimal(5000))],
        date(2026, 3, 20),
    ).row(0, named=True)
    assert row["history_days"] == 12
    assert row["forecast_usd"] == month_total(spend, 2026, 3)


def test_one_spike_day_barely_moves_the_trend():
    spend = seasonal_spend(date(2026, 2, 1), date(2026, 3, 31), growth=0.0).with_columns(
        pl.when(pl.col("day") == date(2026, 3, 18))
        .then(pl.col("cost_usd") * 5)
        .otherwise(pl.col("cost_usd"))
        .alias("cost_usd")
    )
    row = budget_status(spend, [BudgetSpec("search", Decimal(5000))], date(2026, 3, 20)).row(0, named=True)
    assert row["weekly_growth"] == Decimal(1)


def test_month_to_date_percentages_and_thresholds():
    spend = seasonal_spend(date(2026, 3, 1), date(2026, 3, 31), growth=0.0)
    budgets = [
        Budget(team="search", monthly_usd=Decimal(2000)),
        Budget(team="search", feature="answers", monthly_usd=Decimal(4000), thresholds=[25, 50, 75]),
    ]
    status = budget_status(spend, budgets, date(2026, 3, 10))
    team, feature = status.row(0, named=True), status.row(1, named=True)
    # March 2026: 1st is a Sunday; through the 10th: 7 weekdays and 3 weekend days
    assert team["mtd_spend_usd"] == Decimal(805)
    assert (team["pct_used"], team["thresholds_crossed"], team["highest_threshold_crossed"]) == (
        Decimal("40.25"),
        [],
        None,
    )
    assert team["forecast_thresholds_crossed"] == [50, 80, 100] and team["status"] == "forecast_over"
    assert (feature["feature"], feature["pct_used"], feature["thresholds_crossed"]) == ("answers", Decimal("20.13"), [])
    later = budget_status(spend, budgets, date(2026, 3, 25)).row(0, named=True)
    assert (later["thresholds_crossed"], later["status"]) == ([50, 80, 100], "over")


def test_spend_after_as_of_is_ignored():
    spend = seasonal_spend(date(2026, 3, 1), date(2026, 3, 31), growth=0.0)
    cut = spend.filter(pl.col("day") <= date(2026, 3, 10))
    full = budget_status(spend, [BudgetSpec("search", Decimal(1000))], date(2026, 3, 10))
    assert full.equals(budget_status(cut, [BudgetSpec("search", Decimal(1000))], date(2026, 3, 10)))


def test_a_team_without_spend_has_zero_and_no_alerts():
    spend = seasonal_spend(date(2026, 3, 1), date(2026, 3, 31), growth=0.0)
    status = budget_status(spend, [{"team": "legal", "monthly_usd": "100"}], date(2026, 3, 10))
    assert status.row(0, named=True)["mtd_spend_usd"] == Decimal(0)
    assert budget_alert_events(status).is_empty()


def test_each_threshold_alerts_once_per_team_month_and_threshold():
    spend = seasonal_spend(date(2026, 3, 1), date(2026, 3, 31), growth=0.0)
    budgets = [BudgetSpec("search", Decimal(1000))]
    day_12 = budget_alert_events(budget_status(spend, budgets, date(2026, 3, 12)))
    day_13 = budget_alert_events(budget_status(spend, budgets, date(2026, 3, 13)))
    assert day_12["dedup_key"].to_list() == [
        "budget|search|*|2026-03|50",
        "budget|search|*|2026-03|80",
        "budget|search|*|2026-03|100",
    ]
    assert day_12["severity"].to_list() == ["info", "warning", "critical"]
    assert day_12["dedup_key"].to_list() == day_13["dedup_key"].to_list()
    assert day_12["title"][0] == "search passed 50% of its 2026-03 budget"


def test_a_forecast_overrun_is_its_own_event_before_spend_gets_there():
    spend = seasonal_spend(date(2026, 3, 1), date(2026, 3, 31), growth=0.0)
    events = budget_alert_events(
        budget_status(spend, [BudgetSpec("search", Decimal(1500), "answers")], date(2026, 3, 5))
    )
    assert events["dedup_key"].to_list() == ["budget_forecast|search|answers|2026-03|100"]
    assert events["message"][0].startswith("search/answers is forecast to spend $")
