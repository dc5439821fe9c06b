"""Monthly budgets per team (or feature): month-to-date spend, a seasonal month-end forecast, thresholds.

The forecast respects weekday seasonality and trend, the two things that make LLM spend look
nothing like a straight line (weekends are quiet, adoption grows), and stays calm about spikes:

1. history: the last `lookback_weeks` weeks up to `as_of`, starting no earlier than the budget
   scope's first day with spend (a team that started mid-month has no "zero" weeks);
2. trend: the weekly growth factor g is the median, over pairs of days on the same weekday, of
   (later / earlier) ** (7 / days apart) (Theil-Sen: one spike moves it little), clamped to
   [0.8, 1.25] per week; 1 with fewer than three pairs;
3. level: each history day is carried to `as_of` at that growth (value * g ** (days_ago / 7)) and
   averaged per weekday (the mean of all days for a weekday not seen yet);
4. forecast = month-to-date spend + sum over the remaining days d of the month of
   level[weekday(d)] * (g ** 0.5) ** (days_ahead / 7): the trend is damped going forward, since
   jumps in spend are more often a level shift (a new team, a switched model) than lasting growth.

Money stays Decimal; the growth factor is a Decimal too. Budgets are few, so each is computed on
its own (per budget, not per row).
"""

from __future__ import annotations

import calendar
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from tokenomics.home import Home
from tokenomics.schema import MONEY, Schema
from tokenomics.windows import read_mart_window

CENT = Decimal("0.01")
DEFAULT_THRESHOLDS = (50, 80, 100)
GROWTH_BOUNDS = (Decimal("0.8"), Decimal("1.25"))


@dataclass(frozen=True)
class BudgetSpec:
    """One monthly budget; config.Budget (tokenomics.yaml `budgets:`) carries the same fields."""

    team: str
    monthly_usd: Decimal
    feature: str | None = None
    thresholds: tuple[int, ...] = field(default=DEFAULT_THRESHOLDS)


def as_spec(budget) -> BudgetSpec:
    """A BudgetSpec from a config.Budget, a mapping with the same keys, or a BudgetSpec."""
    get: Callable[..., Any] = (
        budget.get if isinstance(budget, dict) else lambda key, default=None: getattr(budget, key, default)
    )
    thresholds = get("thresholds", None) or DEFAULT_THRESHOLDS
    return BudgetSpec(
        team=get("team"),
        monthly_usd=Decimal(str(get("monthly_usd"))),
        feature=get("feature", None),
        thresholds=tuple(sorted(int(t) for t in thresholds)),
    )


STATUS_SCHEMA: Schema = {
    "month": pl.Date,  # first day of the month: BI tools filter and sort it as a date
    "as_of": pl.Date,
    "team": pl.String,
    "feature": pl.String,
    "budget_usd": MONEY,
    "mtd_spend_usd": MONEY,
    "forecast_usd": MONEY,
    "pct_used": pl.Decimal(18, 2),
    "forecast_pct": pl.Decimal(18, 2),
    "days_elapsed": pl.Int64,
    "days_in_month": pl.Int64,
    "weekly_growth": pl.Decimal(18, 4),
    "history_days": pl.Int64,
    "thresholds": pl.List(pl.Int64),
    "thresholds_crossed": pl.List(pl.Int64),
    "highest_threshold_crossed": pl.Int64,
    "forecast_thresholds_crossed": pl.List(pl.Int64),
    "status": pl.String,
}


def budget_status(
    spend_daily: pl.DataFrame, budgets: Iterable, as_of: date, *, lookback_weeks: int = 4
) -> pl.DataFrame:
    """One row per budget for the month of `as_of` (spend counted through `as_of`, inclusive).

    spend_daily: day, team, cost_usd, and feature when a budget names one; e.g. allocation_daily's
    total_cost_usd (bill-true, residual included) or usage_daily's cost_usd (gateway estimate).
    status: 'over' (>= 100 % used), 'forecast_over' (month end forecast >= 100 %) or 'ok'.
    """
    first_data_day = spend_daily["day"].min() if spend_daily.height else as_of
    assert isinstance(first_data_day, date)
    rows = []
    for spec in map(as_spec, budgets):
        series = _daily_series(spend_daily, spec)
        rows.append(_status_row(spec, series, as_of, first_data_day, lookback_weeks))
    return pl.DataFrame(rows, schema=STATUS_SCHEMA, orient="row") if rows else pl.DataFrame(schema=STATUS_SCHEMA)


def budget_status_from_allocation(allocation: pl.DataFrame, budgets: Iterable, as_of: date) -> pl.DataFrame:
    """budget_status on allocation_daily rows: bill-true spend (total_cost_usd, residual included) per day,
    team and feature. No budgets or no spend: an empty frame with STATUS_SCHEMA."""
    budgets = list(budgets)
    if not budgets or allocation.height == 0:
        return pl.DataFrame(schema=STATUS_SCHEMA)
    spend = allocation.group_by("day", "team", "feature").agg(pl.col("total_cost_usd").sum().alias("cost_usd"))
    return budget_status(spend, budgets, as_of)


def budget_status_on(home: Home, budgets: Iterable, day: date) -> pl.DataFrame:
    """Budget status as of `day`, from the month's allocation in the lake up to that day.

    Reads 35 days back so the forecast's trend has its lookback weeks even early in a month.
    """
    allocation = read_mart_window(home, "allocation_daily", day.replace(day=1), day, lookback_days=35)
    return budget_status_from_allocation(allocation, budgets, day)


def month_end_forecast(
    daily: dict[date, Decimal], as_of: date, first_data_day: date | None = None, lookback_weeks: int = 4
) -> tuple[Decimal, Decimal, int]:
    """(forecast of the month total, weekly growth factor, history days used) for one daily series."""
    month_end = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    mtd = _month_to_date(daily, as_of)
    spent = [d for d, v in daily.items() if v > 0 and d <= as_of]
    start = max(
        [
            as_of - timedelta(days=7 * lookback_weeks - 1),
            *([first_data_day] if first_data_day else []),
            *([min(spent)] if spent else []),
        ]
    )
    history = [(d, daily.get(d, Decimal(0))) for d in _days(start, as_of)]
    if not history or as_of >= month_end:
        return mtd, Decimal(1), len(history)
    growth = _weekly_growth([v for _, v in history])
    carried: dict[int, list[Decimal]] = {}
    for d, value in history:
        carried.setdefault(d.weekday(), []).append(value * _power(growth, (as_of - d).days))
    overall = _mean([v for values in carried.values() for v in values])
    level = {weekday: _mean(values) for weekday, values in carried.items()}
    ahead = growth.sqrt()
    remaining = _days(as_of + timedelta(days=1), month_end)
    forecast = mtd + sum(
        (level.get(d.weekday(), overall) * _power(ahead, (d - as_of).days) for d in remaining), Decimal(0)
    )
    return forecast, growth, len(history)


def _status_row(spec: BudgetSpec, daily: dict[date, Decimal], as_of: date, first_data_day: date, weeks: int) -> dict:
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    mtd = _month_to_date(daily, as_of)
    forecast, growth, history_days = month_end_forecast(daily, as_of, first_data_day, weeks)
    pct = _pct(mtd, spec.monthly_usd)
    forecast_pct = _pct(forecast, spec.monthly_usd)
    crossed = [t for t in spec.thresholds if pct >= t]
    status = "over" if pct >= 100 else "forecast_over" if forecast_pct >= 100 else "ok"
    return {
        "month": as_of.replace(day=1),
        "as_of": as_of,
        "team": spec.team,
        "feature": spec.feature,
        "budget_usd": spec.monthly_usd,
        "mtd_spend_usd": mtd,
        "forecast_usd": forecast.quantize(CENT, ROUND_HALF_UP),
        "pct_used": pct,
        "forecast_pct": forecast_pct,
        "days_elapsed": as_of.day,
        "days_in_month": days_in_month,
        "weekly_growth": growth.quantize(Decimal("0.0001")),
        "history_days": history_days,
        "thresholds": list(spec.thresholds),
        "thresholds_crossed": crossed,
        "highest_threshold_crossed": max(crossed) if crossed else None,
        "forecast_thresholds_crossed": [t for t in spec.thresholds if forecast_pct >= t],
        "status": status,
    }


def _daily_series(spend: pl.DataFrame, spec: BudgetSpec) -> dict[date, Decimal]:
    scope = pl.col("team") == spec.team
    if spec.feature is not None:
        scope = scope & (pl.col("feature") == spec.feature)
    per_day = spend.filter(scope).group_by("day").agg(pl.col("cost_usd").cast(MONEY).sum())
    return dict(zip(per_day["day"].to_list(), per_day["cost_usd"].to_list(), strict=True))


def _month_to_date(daily: dict[date, Decimal], as_of: date) -> Decimal:
    return sum((v for d, v in daily.items() if as_of.replace(day=1) <= d <= as_of), Decimal(0))


def _weekly_growth(values: list[Decimal]) -> Decimal:
    """Median weekly growth over pairs of same-weekday days (values[i], values[j]), both positive."""
    ratios = [
        (values[j] / values[i]) ** (Decimal(7) / (j - i))
        for i in range(len(values))
        for j in range(i + 7, len(values), 7)
        if values[i] > 0 and values[j] > 0
    ]
    if len(ratios) < 3:
        return Decimal(1)
    return min(max(statistics.median(ratios), GROWTH_BOUNDS[0]), GROWTH_BOUNDS[1])


def _power(growth: Decimal, days: int) -> Decimal:
    """growth ** (days / 7): a week's growth spread over a number of days."""
    return Decimal(1) if growth == 1 or days == 0 else growth ** (Decimal(days) / 7)


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values) if values else Decimal(0)


def _pct(value: Decimal, budget: Decimal) -> Decimal:
    return (value * 100 / budget).quantize(CENT, ROUND_HALF_UP)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --------------------------------------------------------------------------------------------
# alert events


EVENT_SCHEMA: Schema = {
    "dedup_key": pl.String,
    "kind": pl.String,
    "severity": pl.String,
    "team": pl.String,
    "feature": pl.String,
    "month": pl.String,
    "threshold": pl.Int64,
    "as_of": pl.Date,
    "budget_usd": MONEY,
    "mtd_spend_usd": MONEY,
    "forecast_usd": MONEY,
    "pct_used": pl.Decimal(18, 2),
    "title": pl.String,
    "message": pl.String,
}


def budget_alert_events(status: pl.DataFrame, *, include_forecast: bool = True) -> pl.DataFrame:
    """One event per budget scope, month and threshold crossed; the same key on every later day.

    dedup_key = budget|<team>|<feature or *>|<YYYY-MM>|<threshold>: the alerts layer delivers a key
    once. A month-end forecast at or over 100 % (while spend is still under) is its own event,
    key budget_forecast|<team>|<feature or *>|<YYYY-MM>|100, when include_forecast.
    Severity: critical at >= 100 %, warning at >= 80 % and for forecasts, info below.
    """
    crossed = status.explode("thresholds_crossed").filter(pl.col("thresholds_crossed").is_not_null())
    parts = [crossed.select(*_event_columns("budget", pl.col("thresholds_crossed")))]
    if include_forecast:
        ahead = status.filter((pl.col("forecast_pct") >= 100) & (pl.col("pct_used") < 100))
        parts.append(ahead.select(*_event_columns("budget_forecast", pl.lit(100, pl.Int64))))
    events = pl.concat([p.cast(pl.Schema(EVENT_SCHEMA)) for p in parts], how="vertical")
    return events.sort("month", "team", "feature", "kind", "threshold", nulls_last=True)


def _event_columns(prefix: str, threshold: pl.Expr) -> list[pl.Expr]:
    """EVENT_SCHEMA columns for threshold events (prefix 'budget') or forecast events ('budget_forecast')."""
    scope = pl.concat_str([pl.col("team"), pl.col("feature").fill_null("*")], separator="|")
    has_feature = pl.col("feature").is_not_null()
    who = pl.concat_str(
        [pl.col("team"), pl.when(has_feature).then(pl.lit("/") + pl.col("feature")).otherwise(pl.lit(""))]
    )
    usd = {
        c: pl.col(c).cast(pl.Decimal(38, 2)).cast(pl.String) for c in ("mtd_spend_usd", "budget_usd", "forecast_usd")
    }
    # events keep the YYYY-MM text: it is part of every dedup key already delivered (a DATE month in
    # budget_status, or a YYYY-MM string in a partition written before it became one, both read alike)
    month, as_of = pl.col("month").cast(pl.String).str.slice(0, 7).alias("month"), pl.col("as_of").cast(pl.String)
    if prefix == "budget":
        kind, severity = (
            pl.lit("budget_threshold"),
            (
                pl.when(threshold >= 100)
                .then(pl.lit("critical"))
                .when(threshold >= 80)
                .then(pl.lit("warning"))
                .otherwise(pl.lit("info"))
            ),
        )
        title = [who, pl.lit(" passed "), threshold.cast(pl.String), pl.lit("% of its "), month, pl.lit(" budget")]
        message = [
            who,
            pl.lit(" has spent $"),
            usd["mtd_spend_usd"],
            pl.lit(" of $"),
            usd["budget_usd"],
            pl.lit(" ("),
            pl.col("pct_used").cast(pl.String),
            pl.lit("%) by "),
            as_of,
            pl.lit("; month-end forecast $"),
            usd["forecast_usd"],
            pl.lit("."),
        ]
    else:
        kind, severity = pl.lit("budget_forecast"), pl.lit("warning")
        title = [who, pl.lit(" is forecast to exceed its "), month, pl.lit(" budget")]
        message = [
            who,
            pl.lit(" is forecast to spend $"),
            usd["forecast_usd"],
            pl.lit(" against $"),
            usd["budget_usd"],
            pl.lit(" ("),
            pl.col("forecast_pct").cast(pl.String),
            pl.lit("%); $"),
            usd["mtd_spend_usd"],
            pl.lit(" spent by "),
            as_of,
            pl.lit("."),
        ]
    return [
        pl.concat_str([pl.lit(prefix), scope, month, threshold.cast(pl.String)], separator="|").alias("dedup_key"),
        kind.alias("kind"),
        severity.alias("severity"),
        pl.col("team"),
        pl.col("feature"),
        month,
        threshold.alias("threshold"),
        pl.col("as_of"),
        pl.col("budget_usd"),
        pl.col("mtd_spend_usd"),
        pl.col("forecast_usd"),
        pl.col("pct_used"),
        pl.concat_str(title).alias("title"),
        pl.concat_str(message).alias("message"),
    ]
