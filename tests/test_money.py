"""One rounding rule: cents half away from zero; splits by largest remainder add up to the rounded total."""

import random
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from tokenomics.finance.allocation import allocate
from tokenomics.finance.chargeback import chargeback_monthly
from tokenomics.money import apportion, cents, largest_remainder, to_cents
from tokenomics.schema import MONEY

D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.025", "0.03"),
        ("-0.005", "-0.01"),
        ("1.2349", "1.23"),
        ("-2.675", "-2.68"),
    ],
)
def test_to_cents_rounds_half_away_from_zero(value, expected):
    assert to_cents(D(value)) == D(expected)  # 0.025 -> 0.03, where half-even would say 0.02


def test_the_column_rule_is_the_scalar_rule():
    values = [D(v) for v in ("0.005", "0.025", "-0.005", "1.2349", "-2.675", "0", "12345.6789")]
    column = pl.DataFrame({"v": values}, schema={"v": MONEY}).select(cents(pl.col("v")))["v"]
    assert [D(c) / 100 for c in column] == [to_cents(v) for v in values]


def test_apportion_thirds_add_up_to_the_total():
    assert apportion(D("1.00"), [D(1), D(1), D(1)]) == [D("0.34"), D("0.33"), D("0.33")]
    assert sum(apportion(D("-0.05"), [D(1), D(2)])) == D("-0.05")


def test_largest_remainder_hands_missing_cents_to_the_largest_remainders():
    frame = pl.DataFrame(
        {"g": [1, 1, 1], "v": [D("0.334"), D("0.333"), D("0.333")], "t": [100, 100, 100]},
        schema={"g": pl.Int64, "v": MONEY, "t": pl.Int64},
    )
    out = largest_remainder(frame, "v", "t", pl.lit(True), "c", group=["g"])
    assert out["c"].to_list() == [34, 33, 33]


def test_monthly_team_statements_add_up_to_each_providers_bill_in_cents():
    """30 days, two providers, three teams, bills with sub-cent digits (half cents included): every
    provider's month of team statements equals that provider's month bill rounded to the cent."""
    rng = random.Random(7)
    teams, providers = ["search", "growth", "support"], ["openai", "anthropic"]
    before = dict.fromkeys(providers, D(0))
    days = []
    for i in range(30):
        day = date(2026, 3, 1) + timedelta(days=i)
        bills = {p: D(rng.randint(0, 10**8)) / D(10**6) + D("0.005") * rng.randint(0, 1) for p in providers}
        direct = pl.DataFrame(
            [
                {
                    "day": day,
                    "provider": p,
                    "team": t,
                    "feature": "f",
                    "direct_cost_usd": D(rng.randint(0, 10**7)) / D(10**6),
                }
                for p in providers
                for t in teams
            ],
            schema={
                "day": pl.Date,
                "provider": pl.String,
                "team": pl.String,
                "feature": pl.String,
                "direct_cost_usd": MONEY,
            },
        )
        billed = pl.DataFrame(
            [
                {"day": day, "provider": p, "billed_cost_usd": bills[p], "month_to_date_before_usd": before[p]}
                for p in providers
            ],
            schema={"day": pl.Date, "provider": pl.String, "billed_cost_usd": MONEY, "month_to_date_before_usd": MONEY},
        )
        days.append(allocate(direct, billed))
        before = {p: before[p] + bills[p] for p in providers}
    allocation = pl.concat(days)
    per_provider = allocation.group_by("provider").agg(pl.col("total_cost_usd").sum())
    assert dict(per_provider.iter_rows()) == {p: to_cents(before[p]) for p in providers}
    statements = chargeback_monthly(allocation)
    assert statements["total_cost_usd"].sum() == sum(to_cents(before[p]) for p in providers)
    assert all(v == to_cents(v) for v in statements["total_cost_usd"])
