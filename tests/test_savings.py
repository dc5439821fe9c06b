"""Savings opportunities: smaller model, prompt caching and batch API estimates, worked by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from tokenomics.advice.savings import (
    SAVINGS_SCHEMA,
    SavingsRules,
    as_rules,
    model_family,
    savings_opportunities,
    smaller_model,
)
from tokenomics.config import PriceOverride, PricesConfig
from tokenomics.schema import MONEY

AS_OF = date(2026, 3, 10)
USD = Decimal


def price(name: str, model: str, input_: str, output: str, cache_read: str, cache_write: str) -> PriceOverride:
    return PriceOverride(
        name=name,
        provider="openai",
        model=model,
        effective_from=date(2026, 1, 1),
        input_per_mtok=Decimal(input_),
        output_per_mtok=Decimal(output),
        cache_read_per_mtok=Decimal(cache_read),
        cache_write_per_mtok=Decimal(cache_write),
    )


# Literal per-million prices: big $4 in / $16 out / $1 cache read / $5 cache write; mini exactly a quarter.
# Batch: the default 50% discount (prices.batch_discount_pct).
PRICES = PricesConfig(
    overrides=[
        price("big", "gpt-4o", "4", "16", "1", "5"),
        price("mini", "gpt-4o-mini", "1", "4", "0.25", "1.25"),
    ]
)


def usage(*rows: dict) -> pl.DataFrame:
    base = {
        "team": "search",
        "feature": "answer-gen",
        "provider": "openai",
        "model": "gpt-4o",
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "errors": 0,
        "unpriced_requests": 0,
        "batch_requests": 0,
    }
    schema = {
        "day": pl.Date,
        "team": pl.String,
        "feature": pl.String,
        "provider": pl.String,
        "model": pl.String,
        "requests": pl.Int64,
        "errors": pl.Int64,
        "input_tokens": pl.Int64,
        "cache_read_tokens": pl.Int64,
        "cache_write_tokens": pl.Int64,
        "output_tokens": pl.Int64,
        "reasoning_tokens": pl.Int64,
        "cost_usd": MONEY,
        "unpriced_requests": pl.Int64,
        "batch_requests": pl.Int64,
    }
    return pl.DataFrame([base | row for row in rows], schema=schema)


def every_day(n: int, **row) -> list[dict]:
    """The same row on each of the n days ending AS_OF."""
    return [{"day": AS_OF - timedelta(days=i), **row} for i in range(n)]


# search/answer-gen on gpt-4o, 10 days: 1,000 requests/day, 5M input (5,000 per request), 0.5M output.
# Cost per day at the big prices: 5 * 4 + 0.5 * 16 = $28 -> $280 over 10 days, $840 a 30-day month.
ANSWER_GEN = every_day(10, requests=1000, input_tokens=5_000_000, output_tokens=500_000, cost_usd=USD(28))


def opportunities(frame: pl.DataFrame, **kwargs) -> dict[tuple[str, str, str], dict]:
    out = savings_opportunities(
        frame, as_of=AS_OF, window_days=kwargs.pop("window_days", 10), prices=kwargs.pop("prices", PRICES), **kwargs
    )
    assert out.schema == pl.Schema(SAVINGS_SCHEMA)
    return {(row["team"], row["feature"], row["opportunity"]): row for row in out.iter_rows(named=True)}


def test_smaller_model_prices_the_same_tokens_on_the_sibling():
    row = opportunities(usage(*ANSWER_GEN))[("search", "answer-gen", "smaller_model")]
    # mini: 5 * 1 + 0.5 * 4 = $7/day = a quarter of $28 -> 840 * 0.25 = 210
    assert row["target_model"] == "gpt-4o-mini"
    assert (row["current_monthly_usd"], row["estimated_monthly_usd"], row["monthly_savings_usd"]) == (
        USD("840.00"),
        USD("210.00"),
        USD("630.00"),
    )
    assert row["confidence"] == "low"
    assert row["assumption"] == (
        "same tokens on gpt-4o-mini ($1.00/$4.00 per M in/out) instead of gpt-4o ($4.00/$16.00 per M in/out); "
        "quality trade-off: evaluate the feature on it before switching"
    )


def test_prompt_caching_moves_the_assumed_prefix_to_cache_reads_and_writes():
    row = opportunities(usage(*ANSWER_GEN))[("search", "answer-gen", "prompt_caching")]
    # prefix 50% of 5M = 2.5M: 90% read at $1 (2.25M -> $2.25), 10% written at $5 (0.25M -> $1.25);
    # the other 2.5M stay at $4 ($10); output $8. Day: 21.50 of 28 -> 840 * 21.5 / 28 = 645
    assert (row["estimated_monthly_usd"], row["monthly_savings_usd"]) == (USD("645.00"), USD("195.00"))
    assert row["confidence"] == "medium"  # 5,000 uncached tokens per request >= 4 * 1,024
    assert row["assumption"] == (
        "avg prompt 5000 tokens, 0% read from cache: assume 50% of it is a stable prefix put first, "
        "90% of that read from cache at $1.00/M (writes $5.00/M) instead of $4.00/M"
    )


def test_batch_api_moves_the_assumed_share_at_the_batch_discount():
    row = opportunities(usage(*ANSWER_GEN))[("search", "answer-gen", "batch_api")]
    # half the traffic at half price: 28 * (0.5 + 0.5 * 0.5) = 21 -> 840 * 0.75 = 630
    assert (row["estimated_monthly_usd"], row["monthly_savings_usd"]) == (USD("630.00"), USD("210.00"))
    assert row["confidence"] == "low"  # interactive-sounding feature, no batch traffic yet
    assert row["assumption"] == (
        "50% of its non-batch traffic (100% of requests today) could wait up to 24 h: batch API at 50% off"
    )


def test_batch_api_counts_the_traffic_already_on_batch():
    # data/nightly-enrich on gpt-4o-mini: 100 requests/day, 10 of them batch; 0.2M in + 0.1M out per day.
    # Standard price 0.2 * 1 + 0.1 * 4 = $0.60, batch $0.30; billed 0.9 * 0.60 + 0.1 * 0.30 = $0.57/day.
    frame = usage(
        *every_day(
            10,
            team="data",
            feature="nightly-enrich",
            model="gpt-4o-mini",
            requests=100,
            batch_requests=10,
            input_tokens=200_000,
            output_tokens=100_000,
            cost_usd=USD("0.57"),
        )
    )
    found = opportunities(frame)
    row = found[("data", "nightly-enrich", "batch_api")]
    # batch share 0.1 + 0.5 * 0.9 = 0.55: 0.45 * 0.60 + 0.55 * 0.30 = 0.435/day -> 17.10 * 0.435 / 0.57 = 13.05
    assert (row["current_monthly_usd"], row["estimated_monthly_usd"], row["monthly_savings_usd"]) == (
        USD("17.10"),
        USD("13.05"),
        USD("4.05"),
    )
    assert row["confidence"] == "high"  # it already sends batch work
    assert "(90% of requests today)" in row["assumption"]
    # gpt-4o-mini is already the smallest; 100 requests/day is too few to keep a cache warm
    assert set(found) == {("data", "nightly-enrich", "batch_api")}


def test_a_mostly_batch_feature_gets_no_batch_row():
    frame = usage(
        *every_day(
            10, requests=1000, batch_requests=600, input_tokens=5_000_000, output_tokens=500_000, cost_usd=USD(20)
        )
    )
    assert ("search", "answer-gen", "batch_api") not in opportunities(frame)


def test_a_negotiated_discount_in_cost_usd_carries_over():
    # billed 20% under list ($22.40 instead of $28): every estimate is the same fraction of the real bill
    frame = usage(*every_day(10, requests=1000, input_tokens=5_000_000, output_tokens=500_000, cost_usd=USD("22.4")))
    row = opportunities(frame)[("search", "answer-gen", "smaller_model")]
    assert (row["current_monthly_usd"], row["estimated_monthly_usd"]) == (USD("672.00"), USD("168.00"))


def test_a_group_new_in_the_window_is_scaled_from_its_first_day():
    # 5 days of $3.36 (0.6M in = 2,000 per request, 0.06M out) in a 10-day window: 16.80 / 5 * 30 = 100.80
    frame = usage(
        *every_day(5, team="new", requests=300, input_tokens=600_000, output_tokens=60_000, cost_usd=USD("3.36"))
    )
    found = opportunities(frame)
    assert found[("new", "answer-gen", "smaller_model")]["estimated_monthly_usd"] == USD("25.20")
    caching = found[("new", "answer-gen", "prompt_caching")]
    # 300k prefix: 270k * $1 + 30k * $5 + 300k * $4 + 60k * $16 = 0.27 + 0.15 + 1.20 + 0.96 = 2.58 of 3.36
    assert (caching["estimated_monthly_usd"], caching["confidence"]) == (USD("77.40"), "low")


def test_days_outside_the_window_are_ignored():
    before = every_day(1, requests=10**6, input_tokens=10**12, output_tokens=10**9, cost_usd=USD(99999))
    before[0]["day"] = AS_OF - timedelta(days=10)
    found = opportunities(usage(*ANSWER_GEN, *before))
    assert found[("search", "answer-gen", "smaller_model")]["current_monthly_usd"] == USD("840.00")


def test_a_prompt_already_read_from_cache_gets_no_caching_row():
    # 20% of input is cache reads (>= 10%): caching is in use
    frame = usage(
        *every_day(
            10,
            requests=1000,
            input_tokens=5_000_000,
            cache_read_tokens=1_000_000,
            output_tokens=500_000,
            cost_usd=USD(25),
        )
    )
    assert ("search", "answer-gen", "prompt_caching") not in opportunities(frame)


def test_unpriced_models_are_skipped():
    frame = usage(
        *every_day(
            10,
            feature="private",
            model="acme-finetune",
            requests=1000,
            input_tokens=5_000_000,
            output_tokens=500_000,
            cost_usd=USD(0),
            unpriced_requests=1000,
        ),
        # a cost the source reported for a model nobody can price: still nothing to compare against
        *every_day(
            10,
            feature="reported",
            model="acme-finetune",
            requests=1000,
            input_tokens=5_000_000,
            output_tokens=500_000,
            cost_usd=USD(12),
        ),
    )
    assert opportunities(frame) == {}


def test_zero_usage_gives_an_empty_table_with_its_columns():
    assert savings_opportunities(usage(), as_of=AS_OF).schema == pl.Schema(SAVINGS_SCHEMA)
    zero = usage(*every_day(10, requests=0, input_tokens=0, output_tokens=0, cost_usd=USD(0)))
    assert savings_opportunities(zero, as_of=AS_OF, prices=PRICES).height == 0


def test_catalog_prices_price_the_sibling_on_as_of():
    # genai-prices: gpt-4o $2.50/$10 and gpt-4o-mini $0.15/$0.60, cache read $1.25 / $0.075: exactly 6%
    row = opportunities(usage(*ANSWER_GEN), prices=None)[("search", "answer-gen", "smaller_model")]
    assert (row["estimated_monthly_usd"], row["monthly_savings_usd"]) == (USD("50.40"), USD("789.60"))


def test_results_are_sorted_by_savings():
    found = savings_opportunities(usage(*ANSWER_GEN), as_of=AS_OF, window_days=10, prices=PRICES)
    assert found["opportunity"].to_list() == ["smaller_model", "batch_api", "prompt_caching"]  # 630, 210, 195


def test_rules_are_configurable_and_unknown_ones_refused():
    rules = {"batch_share": "1", "cacheable_share": "0.8"}
    row = opportunities(usage(*ANSWER_GEN), rules=rules)[("search", "answer-gen", "batch_api")]
    assert row["estimated_monthly_usd"] == USD("420.00")  # all of it at half price
    assert as_rules(rules).cacheable_share == Decimal("0.8")
    assert as_rules(None) == SavingsRules()
    with pytest.raises(ValueError, match="unknown savings rule 'batch_shares'"):
        as_rules({"batch_shares": 1})


@pytest.mark.parametrize(
    "model, family",
    [
        ("gpt-4o", "gpt-4o"),
        ("openai/gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),
        ("claude-sonnet-4@20250514", "claude-sonnet-4"),
        ("claude-sonnet-4-0", "claude-sonnet-4"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("", None),
    ],
)
def test_model_family_drops_routing_prefixes_and_versions(model, family):
    assert model_family(model) == family


@pytest.mark.parametrize(
    "provider, model",
    [
        ("openai", "gpt-4o-mini"),
        ("openai", "o4-mini"),
        ("anthropic", "claude-3-5-haiku-20241022"),
        ("gcp_vertex", "gemini-2.5-flash-lite"),
    ],
)
def test_a_model_already_the_smallest_gets_no_smaller_model_row(provider, model):
    assert smaller_model(provider, model) is None
    frame = usage(
        *every_day(
            10,
            provider=provider,
            model=model,
            requests=1000,
            input_tokens=5_000_000,
            output_tokens=500_000,
            cost_usd=USD(5),
        )
    )
    found = opportunities(frame, prices=None)
    assert ("search", "answer-gen", "smaller_model") not in found
    assert ("search", "answer-gen", "batch_api") in found  # the other opportunities still apply


@pytest.mark.parametrize(
    "provider, model, target",
    [
        ("aws_bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0"),
        ("gcp_vertex", "claude-sonnet-4@20250514", "claude-3-5-haiku"),
        ("azure_openai", "gpt-4o", "gpt-4o-mini"),
        ("openai", "o3", "o4-mini"),
    ],
)
def test_the_smaller_sibling_is_spelled_the_providers_way(provider, model, target):
    assert smaller_model(provider, model) == target
