"""Allocation of each bill to teams: every method, the fallbacks, and sums exact to the cent."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest

from tokenomics.finance.allocation import allocate, build_allocation_day
from tokenomics.home import Home
from tokenomics.lake import read_partition
from tokenomics.schema import MONEY, TABLES

D = date(2026, 3, 2)


def direct(*rows: tuple) -> pl.DataFrame:
    """Rows of (provider, team, feature, cost[, day])."""
    return pl.DataFrame(
        [
            {
                "day": r[4] if len(r) > 4 else D,
                "provider": r[0],
                "team": r[1],
                "feature": r[2],
                "direct_cost_usd": Decimal(r[3]),
            }
            for r in rows
        ],
        schema={
            "day": pl.Date,
            "provider": pl.String,
            "team": pl.String,
            "feature": pl.String,
            "direct_cost_usd": MONEY,
        },
    )


def billed(*rows: tuple) -> pl.DataFrame:
    """Rows of (provider, billed[, day])."""
    return pl.DataFrame(
        [{"day": r[2] if len(r) > 2 else D, "provider": r[0], "billed_cost_usd": Decimal(r[1])} for r in rows],
        schema={"day": pl.Date, "provider": pl.String, "billed_cost_usd": MONEY},
    )


def totals(out: pl.DataFrame, column: str = "total_cost_usd") -> dict[tuple[str, str], Decimal]:
    return {(r["team"], r["feature"]): r[column] for r in out.iter_rows(named=True)}


OPENAI_DAY = direct(
    ("openai", "search", "answers", "30"),
    ("openai", "support", "triage", "10"),
    ("openai", "unattributed", "unattributed", "20"),
)


def test_proportional_spreads_the_residual_by_direct_cost():
    out = allocate(OPENAI_DAY, billed(("openai", "100")), "proportional")
    assert totals(out) == {("search", "answers"): Decimal(75), ("support", "triage"): Decimal(25)}
    assert totals(out, "allocated_cost_usd") == {("search", "answers"): Decimal(45), ("support", "triage"): Decimal(15)}
    assert out["residual_usd"].to_list() == [Decimal(60), Decimal(60)]
    assert set(out["allocation_method"]) == {"proportional"} and set(out["allocation_basis"]) == {"direct_cost"}


def test_unattributed_gateway_cost_is_residual_not_direct():
    out = allocate(OPENAI_DAY, billed(("openai", "100")), "unallocated")
    assert totals(out) == {
        ("search", "answers"): Decimal(30),
        ("support", "triage"): Decimal(10),
        ("unallocated", "unallocated"): Decimal(60),
    }
    assert out.filter(pl.col("team") == "unallocated")["direct_cost_usd"].item() == Decimal(0)


def test_thirds_round_to_cents_with_the_largest_remainder():
    out = allocate(
        direct(("openai", "a", "f", "1"), ("openai", "b", "f", "1"), ("openai", "c", "f", "1")),
        billed(("openai", "100")),
    )
    assert out["total_cost_usd"].to_list() == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert out["total_cost_usd"].sum() == Decimal(100)


def test_even_splits_the_residual_per_team_then_by_feature():
    day = direct(
        ("openai", "search", "answers", "30"),
        ("openai", "search", "rewrite", "10"),
        ("openai", "support", "triage", "10"),
    )
    out = allocate(day, billed(("openai", "100")), "even")
    assert totals(out, "allocated_cost_usd") == {
        ("search", "answers"): Decimal("18.75"),
        ("search", "rewrite"): Decimal("6.25"),
        ("support", "triage"): Decimal(25),
    }
    assert set(out["allocation_basis"]) == {"even"}


def test_weights_give_listed_teams_their_share_and_unlisted_teams_none():
    out = allocate(OPENAI_DAY, billed(("openai", "100")), "weights", {"search": 3, "growth": 1})
    assert totals(out, "allocated_cost_usd") == {
        ("search", "answers"): Decimal(45),
        ("support", "triage"): Decimal(0),
        ("growth", "(shared)"): Decimal(15),
    }
    assert out["total_cost_usd"].sum() == Decimal(100)


def test_unallocated_keeps_the_residual_on_its_own_line():
    out = allocate(OPENAI_DAY, billed(("openai", "100")), "unallocated")
    line = out.filter(pl.col("team") == "unallocated").row(0, named=True)
    assert (line["feature"], line["allocated_cost_usd"], line["allocation_basis"]) == (
        "unallocated",
        Decimal(60),
        "unallocated",
    )


@pytest.mark.parametrize(
    "method, expected",
    [
        ("proportional", {("search", "(shared)"): Decimal("37.5"), ("support", "(shared)"): Decimal("12.5")}),
        ("even", {("search", "(shared)"): Decimal(25), ("support", "(shared)"): Decimal(25)}),
    ],
)
def test_a_provider_without_gateway_traffic_is_spread_by_the_days_teams(method, expected):
    out = allocate(OPENAI_DAY, billed(("openai", "40"), ("anthropic", "50")), method)
    anthropic = out.filter(pl.col("provider") == "anthropic")
    assert totals(anthropic) == expected
    assert (
        set(anthropic["allocation_basis"])
        == {"proportional": {"all_providers_direct_cost"}, "even": {"even_all_providers"}}[method]
    )


def test_a_day_without_any_direct_cost_keeps_the_bill_unallocated():
    out = allocate(direct(("openai", "unattributed", "unattributed", "5")), billed(("anthropic", "50")))
    assert totals(out) == {("unallocated", "unallocated"): Decimal(50)}
    assert out["allocation_basis"].to_list() == ["unallocated"]


@pytest.mark.parametrize("method", ["proportional", "even", "weights", "unallocated"])
def test_credits_exceeding_usage_give_a_negative_residual_that_still_sums(method):
    out = allocate(OPENAI_DAY, billed(("openai", "-20")), method, {"search": 3, "support": 1})
    assert out["total_cost_usd"].sum() == Decimal(-20)
    assert out["residual_usd"][0] == Decimal(-60)
    if method == "proportional":
        assert totals(out) == {("search", "answers"): Decimal(-15), ("support", "triage"): Decimal(-5)}


def test_zero_direct_cost_everywhere():
    zero = direct(("openai", "search", "answers", "0"), ("openai", "support", "triage", "0"))
    proportional = allocate(zero, billed(("openai", "10")), "proportional")
    assert totals(proportional) == {
        ("search", "answers"): Decimal(0),
        ("support", "triage"): Decimal(0),
        ("unallocated", "unallocated"): Decimal(10),
    }
    even = allocate(zero, billed(("openai", "10")), "even")
    assert totals(even) == {("search", "answers"): Decimal(5), ("support", "triage"): Decimal(5)}


def test_direct_cost_without_a_bill_is_kept_and_marked_unbilled():
    out = allocate(direct(("mistral", "search", "answers", "3.333")), billed(("openai", "1")))
    line = out.filter(pl.col("provider") == "mistral").row(0, named=True)
    assert (
        line["total_cost_usd"],
        line["allocated_cost_usd"],
        line["allocation_basis"],
        line["is_billed"],
        line["residual_usd"],
    ) == (Decimal("3.33"), Decimal(0), "unbilled", False, None)


def test_extra_key_columns_such_as_model_are_kept():
    day = OPENAI_DAY.with_columns(pl.lit("gpt-4o").alias("model"))
    out = allocate(day, billed(("openai", "100"), ("anthropic", "10")))
    assert out.columns[:5] == ["day", "provider", "team", "feature", "model"]
    assert out.filter(pl.col("provider") == "anthropic")["model"].to_list() == [None, None]


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("method", ["proportional", "even", "weights", "unallocated"])
def test_every_provider_day_sums_to_its_bill_to_the_cent(method):
    rng = random.Random(7)
    teams = ["search", "support", "growth", "legal", "agents"]
    rows, bills = [], []
    for d in range(5):
        day = D + timedelta(days=d)
        for provider in ("openai", "anthropic", "aws_bedrock"):
            for team in rng.sample(teams, rng.randint(0, 5)):
                for feature in rng.sample(["a", "b", "c"], rng.randint(1, 3)):
                    rows.append((provider, team, feature, str(Decimal(rng.randint(0, 10**9)) / 10**7), day))
            bills.append((provider, str(Decimal(rng.randint(-(10**8), 10**11)) / 10**9), day))
    out = allocate(direct(*rows), billed(*bills), method, {"search": 2, "legal": 1, "nobody": 1})
    sums = out.group_by("day", "provider").agg(
        pl.col("total_cost_usd").sum(),
        pl.col("direct_cost_usd").sum(),
        pl.col("allocated_cost_usd").sum(),
        pl.col("residual_usd").first(),
    )
    expected = {(day, provider): _round(Decimal(b)) for provider, b, day in bills}
    for row in sums.iter_rows(named=True):
        assert row["total_cost_usd"] == expected[(row["day"], row["provider"])]
        assert row["allocated_cost_usd"] == row["residual_usd"]
        assert row["direct_cost_usd"] + row["allocated_cost_usd"] == row["total_cost_usd"]
    assert all(v == _round(v) for v in out["total_cost_usd"])


def test_month_to_date_rounding_makes_the_month_sum_to_its_bill():
    days = [D + timedelta(days=i) for i in range(3)]
    bills = billed(*[("openai", "10.005", day) for day in days]).with_columns(
        pl.Series("month_to_date_before_usd", [Decimal("0"), Decimal("10.005"), Decimal("20.01")], MONEY)
    )
    out = allocate(direct(*[("openai", "search", "answers", "1", day) for day in days]), bills)
    assert out["total_cost_usd"].to_list() == [Decimal("10.01"), Decimal("10.00"), Decimal("10.01")]
    assert out["total_cost_usd"].sum() == Decimal("30.02")


def test_unknown_method_and_missing_weights_are_errors():
    with pytest.raises(ValueError, match="not one of"):
        allocate(OPENAI_DAY, billed(("openai", "1")), "fair")
    with pytest.raises(ValueError, match="positive weight"):
        allocate(OPENAI_DAY, billed(("openai", "1")), "weights", {})


# --------------------------------------------------------------------------------------------
# the mart


def _write(home: Home, table: str, day: date, rows: list[dict]) -> None:
    schema = TABLES[table]
    folder = home.table_day(table, day)
    folder.mkdir(parents=True)
    pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema, orient="row").write_parquet(
        folder / "part-0.parquet"
    )


def _event(team: str, cost: str, day: date) -> dict:
    return {
        "event_id": f"{team}-{cost}",
        "day": day,
        "source": "litellm",
        "provider": "openai",
        "model": "gpt-4o",
        "model_id": "gpt-4o",
        "team": team,
        "feature": "answers",
        "input_tokens": 1000,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "output_tokens": 100,
        "reasoning_tokens": 0,
        "requests": 1,
        "cost_usd": Decimal(cost),
        "cost_source": "catalog",
        "price_ref": "genai-prices:gpt-4o",
    }


def _line(cost: str, day: date) -> dict:
    return {
        "day": day,
        "provider": "openai",
        "model": "gpt-4o",
        "token_type": "input",
        "billed_cost": Decimal(cost),
        "billing_currency": "USD",
        "line_id": f"l-{day}",
        "source": "openai_costs",
    }


def test_build_allocation_day_writes_lines_with_tokens_and_rounds_the_running_month(tmp_path):
    home = Home(tmp_path)
    first, second = date(2026, 3, 1), date(2026, 3, 2)
    _write(home, "billing_lines", first, [_line("10.005", first)])
    _write(home, "billing_lines", second, [_line("10.005", second)])
    _write(home, "usage_events", second, [_event("search", "3", second), _event("support", "1", second)])
    assert build_allocation_day(home, second, "proportional") == 2
    out = read_partition(home.mart_day("allocation_daily", second))
    assert out["total_cost_usd"].sum() == Decimal("10.00")  # 20.01 (month so far) - 10.01 (the 1st)
    assert out["input_tokens"].to_list() == [1000, 1000]
    assert out["price_refs"].to_list() == ["genai-prices:gpt-4o"] * 2
    assert out["allocation_method"].to_list() == ["proportional"] * 2


def test_the_bill_is_what_it_charges_after_credits_on_its_lines(tmp_path):
    home = Home(tmp_path)
    _write(home, "billing_lines", D, [{**_line("10", D), "effective_cost": Decimal("8")}])
    _write(home, "usage_events", D, [_event("search", "3", D)])
    build_allocation_day(home, D)
    out = read_partition(home.mart_day("allocation_daily", D))
    assert (out["billed_cost_usd"].item(), out["total_cost_usd"].item()) == (Decimal(8), Decimal(8))
