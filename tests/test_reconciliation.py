"""Reconciliation of gateway estimates with bills: model keys, gap components and likely causes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tokenomics.finance.reconcile import build_reconciliation_day, likely_cause, reconciliation_frame
from tokenomics.home import Home
from tokenomics.lake import read_partition
from tokenomics.schema import TABLES

D = date(2026, 3, 2)
M = 1_000_000


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    schema = TABLES[table]
    full = [{column: row.get(column) for column in schema} for row in rows]
    return pl.DataFrame(full, schema=schema, orient="row") if full else pl.DataFrame(schema=schema)


def usage(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cost: str | None,
    *,
    provider="openai",
    day=D,
    cache_read=0,
    cache_write=0,
    cost_source="catalog",
    team="search",
    **extra,
) -> dict:
    return {
        "event_id": f"e-{model}-{input_tokens}-{day}",
        "day": day,
        "source": "litellm",
        "provider": provider,
        "model": model,
        "model_id": None if cost_source == "unpriced" else model,
        "team": team,
        "feature": "answers",
        "input_tokens": input_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": output_tokens,
        "reasoning_tokens": 0,
        "requests": 1,
        "is_batch": False,
        "service_tier": "default",
        "status": "ok",
        "cost_usd": None if cost is None else Decimal(cost),
        "cost_source": cost_source,
        "price_ref": f"genai-prices:{model}",
        **extra,
    }


def bill(model: str | None, token_type: str | None, tokens: int | None, cost: str, *, provider="openai", day=D) -> dict:
    return {
        "day": day,
        "provider": provider,
        "model": model,
        "token_type": token_type,
        "consumed_quantity": None if tokens is None else Decimal(tokens),
        "consumed_unit": None if tokens is None else "tokens",
        "billed_cost": Decimal(cost),
        "effective_cost": Decimal(cost),
        "list_cost": Decimal(cost),
        "billing_currency": "USD",
        "line_id": f"{model}-{token_type}-{cost}",
        "source": "openai_costs",
    }


def reported(model: str, input_tokens: int, output_tokens: int, *, provider="openai", day=D, cache_read=0) -> dict:
    return {
        "day": day,
        "provider": provider,
        "model": model,
        "requests": 1,
        "input_tokens": input_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": 0,
        "output_tokens": output_tokens,
        "reasoning_tokens": 0,
        "is_batch": False,
        "service_tier": "default",
        "source": "openai_usage",
    }


def reconcile(tmp_path: Path, usage_rows=(), billing_rows=(), provider_rows=()) -> pl.DataFrame:
    paths = {}
    for param, table, rows in (
        ("usage", "usage_events", usage_rows),
        ("billing", "billing_lines", billing_rows),
        ("provider_usage", "provider_usage", provider_rows),
    ):
        paths[param] = tmp_path / f"{table}-{len(list(tmp_path.iterdir()))}.parquet"
        _frame(table, list(rows)).write_parquet(paths[param])
    return likely_cause(reconciliation_frame(**paths))


def only(frame: pl.DataFrame, **where) -> dict:
    for column, value in where.items():
        frame = frame.filter(pl.col(column) == value)
    assert frame.height == 1, frame
    return frame.row(0, named=True)


# --------------------------------------------------------------------------------------------
# model keys


@pytest.mark.parametrize(
    "provider, gateway_model, billed_model",
    [
        ("openai", "gpt-4o", "gpt-4o-2024-08-06"),
        ("openai", "gpt-4.1", "gpt-4.1-2025-04-14"),
        ("anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"),
        ("anthropic", "claude-sonnet-4-0", "claude-sonnet-4-20250514"),
        ("aws_bedrock", "regional.anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude3.5Sonnet"),
        ("aws_bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude3.5Sonnet"),
        ("aws_bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude 3.5 Sonnet (Amazon Bedrock Edition)"),
        ("aws_bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", "USE1-Claude4Sonnet"),
        ("aws_bedrock", "amazon.nova-pro-v1:0", "NovaPro"),
        ("azure_openai", "gpt-4o", "gpt 4o 1120"),
        ("azure_openai", "gpt-4o-mini", "gpt 4o mini 0718"),
        ("gcp_vertex", "gemini-2.5-flash", "Gemini 2.5 Flash"),
        ("gcp_vertex", "publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro-001"),
    ],
)
def test_bill_and_gateway_spellings_of_one_model_meet_on_one_row(tmp_path, provider, gateway_model, billed_model):
    out = reconcile(
        tmp_path,
        [usage(gateway_model, 1000, 100, "1.00", provider=provider)],
        [bill(billed_model, "input", 1000, "1.00", provider=provider)],
    )
    row = only(out)
    assert (row["model"], row["gateway_cost_usd"], row["billed_cost_usd"]) == (gateway_model, Decimal(1), Decimal(1))
    assert row["billed_models"] == billed_model


def test_sibling_models_keep_separate_keys(tmp_path):
    out = reconcile(
        tmp_path,
        [
            usage("gpt-4o", 10, 1, "1"),
            usage("gpt-4.1", 10, 1, "1"),
            usage("claude-sonnet-4-20250514", 10, 1, "1", provider="anthropic"),
        ],
        [
            bill("gpt-4o-mini-2024-07-18", "input", 10, "1"),
            bill("gpt-4.1-mini-2025-04-14", "input", 10, "1"),
            bill("claude-sonnet-4-5-20250929", "input", 10, "1", provider="anthropic"),
            bill("claude-3-5-sonnet-20241022", "input", 10, "1", provider="anthropic"),
        ],
    )
    assert sorted(out["model_key"]) == [
        "claude35sonnet",
        "claude45sonnet",
        "claude4sonnet",
        "gpt4.1",
        "gpt4.1mini",
        "gpt4o",
        "gpt4omini",
    ]


# --------------------------------------------------------------------------------------------
# numbers


def _gpt4o_bill(input_tokens: int, output_tokens: int, factor: str = "1") -> list[dict]:
    """gpt-4o list prices $2.50 / $10 per million tokens, times a negotiated factor."""
    f = Decimal(factor)
    return [
        bill("gpt-4o-2024-08-06", "input", input_tokens, str(Decimal("2.5") * input_tokens / M * f)),
        bill("gpt-4o-2024-08-06", "output", output_tokens, str(Decimal(10) * output_tokens / M * f)),
    ]


def test_gap_capture_rate_and_token_comparison_are_exact(tmp_path):
    out = reconcile(
        tmp_path,
        [usage("gpt-4o", 10 * M, M, "35")],
        _gpt4o_bill(12 * M, 1_200_000),
        [reported("gpt-4o-2024-08-06", 12 * M, 1_200_000)],
    )
    row = only(out)
    assert row["gateway_cost_usd"] == Decimal(35)
    assert row["billed_cost_usd"] == Decimal(42)
    assert row["gap_usd"] == Decimal(7)
    assert row["capture_rate"] == Decimal("0.833333")
    assert (row["gateway_input_tokens"], row["provider_input_tokens"]) == (10 * M, 12 * M)
    assert (row["gateway_output_tokens"], row["provider_output_tokens"]) == (M, 1_200_000)
    assert row["provider_tokens_from"] == "provider_usage"


def test_bill_quantities_stand_in_for_provider_tokens(tmp_path):
    bedrock = [
        bill("Claude3.5Sonnet", "input", 4 * M, "12", provider="aws_bedrock"),
        bill("Claude3.5Sonnet", "cache_read", 6 * M, "1.8", provider="aws_bedrock"),
        bill("Claude3.5Sonnet", "output", M, "15", provider="aws_bedrock"),
    ]
    row = only(reconcile(tmp_path, [], bedrock))
    assert row["provider_tokens_from"] == "billing_lines"
    assert (row["provider_input_tokens"], row["provider_cache_read_tokens"], row["provider_output_tokens"]) == (
        10 * M,
        6 * M,
        M,
    )
    assert row["billed_cost_usd"] == Decimal("28.8")


# --------------------------------------------------------------------------------------------
# causes


def test_traffic_outside_the_gateway_is_the_cause_of_its_gap(tmp_path):
    row = only(
        reconcile(
            tmp_path,
            [usage("gpt-4o", 10 * M, M, "35")],
            _gpt4o_bill(12 * M, 1_200_000),
            [reported("gpt-4o-2024-08-06", 12 * M, 1_200_000)],
        )
    )
    assert row["likely_cause"] == "outside_gateway"
    assert row["outside_gateway_usd"] == Decimal(7)
    assert row["price_difference_usd"] == Decimal(0)
    assert row["cause_detail"].startswith("provider counted 16.7% more tokens than the gateway saw")
    assert "+$7.00" in row["cause_detail"]


def test_negotiated_discount_is_the_cause_of_its_gap(tmp_path):
    row = only(
        reconcile(
            tmp_path,
            [usage("gpt-4o", 10 * M, M, "35")],
            _gpt4o_bill(10 * M, M, "0.8"),
            [reported("gpt-4o-2024-08-06", 10 * M, M)],
        )
    )
    assert row["gap_usd"] == Decimal(-7)
    assert row["likely_cause"] == "price_difference"
    assert row["price_difference_usd"] == Decimal(-7)
    assert row["outside_gateway_usd"] == Decimal(0)
    assert row["cause_detail"] == (
        "same tokens billed at 80.0% of the gateway estimate "
        "(negotiated rate or discount, or a stale catalog price), -$7.00"
    )


def test_discount_and_outside_traffic_together_are_both_named(tmp_path):
    row = only(
        reconcile(
            tmp_path,
            [usage("gpt-4o", 10 * M, M, "35")],
            _gpt4o_bill(11 * M, 1_100_000, "0.8"),
            [reported("gpt-4o-2024-08-06", 11 * M, 1_100_000)],
        )
    )
    assert row["gap_usd"] == Decimal("-4.2")
    assert (row["outside_gateway_usd"], row["price_difference_usd"]) == (Decimal("2.8"), Decimal("-7"))
    assert row["likely_cause"] == "price_difference"
    assert row["cause_detail"].endswith("; also outside gateway +$2.80")


def test_cache_tokens_the_gateway_did_not_report_are_a_cache_miscount(tmp_path):
    gateway = [usage("anthropic.claude-3-5-sonnet-20240620-v1:0", 10 * M, M, "45", provider="aws_bedrock")]
    bedrock = [
        bill("Claude3.5Sonnet", "input", 4 * M, "12", provider="aws_bedrock"),
        bill("Claude3.5Sonnet", "cache_read", 6 * M, "1.8", provider="aws_bedrock"),
        bill("Claude3.5Sonnet", "output", M, "15", provider="aws_bedrock"),
    ]
    row = only(reconcile(tmp_path, gateway, bedrock))
    assert row["gap_usd"] == Decimal("-16.2")
    assert row["likely_cause"] == "cache_miscount"
    assert row["cache_miscount_usd"] == Decimal("-16.2")
    assert row["outside_gateway_usd"] == Decimal(0)
    assert row["price_difference_usd"] == Decimal(0)


def test_unpriced_gateway_rows_are_the_cause_when_tokens_match(tmp_path):
    row = only(
        reconcile(
            tmp_path,
            [usage("gpt-4o", 10 * M, M, None, cost_source="unpriced")],
            _gpt4o_bill(10 * M, M),
            [reported("gpt-4o-2024-08-06", 10 * M, M)],
        )
    )
    assert row["gateway_cost_usd"] == Decimal(0)
    assert row["likely_cause"] == "unpriced_model"
    assert row["unpriced_usd"] == Decimal(35)
    assert row["price_difference_usd"] == Decimal(0)


def test_a_model_only_the_bill_knows_is_outside_the_gateway(tmp_path):
    row = only(reconcile(tmp_path, [], _gpt4o_bill(2 * M, 0)))
    assert (row["likely_cause"], row["outside_gateway_usd"], row["capture_rate"]) == (
        "outside_gateway",
        Decimal(5),
        Decimal(0),
    )


def test_gateway_traffic_without_a_bill_line_is_not_billed(tmp_path):
    row = only(reconcile(tmp_path, [usage("gpt-4o", 10 * M, M, "35")]))
    assert (row["likely_cause"], row["gap_usd"], row["capture_rate"]) == ("not_billed", Decimal(-35), None)


def test_credits_without_a_model_are_non_token_charges(tmp_path):
    row = only(reconcile(tmp_path, [], [bill(None, None, None, "-50")]))
    assert (row["model_key"], row["likely_cause"], row["other_charges_usd"]) == (
        "(none)",
        "non_token_charge",
        Decimal(-50),
    )


def test_a_gap_within_one_percent_is_matched(tmp_path):
    row = only(
        reconcile(
            tmp_path,
            [usage("gpt-4o", 10 * M, M, "35")],
            [bill("gpt-4o", "input", 10 * M, "25.30"), bill("gpt-4o", "output", M, "10")],
            [reported("gpt-4o", 10 * M, M)],
        )
    )
    assert (row["likely_cause"], row["gap_usd"]) == ("matched", Decimal("0.3"))


def test_no_provider_counts_leaves_the_gap_unexplained(tmp_path):
    row = only(reconcile(tmp_path, [usage("gpt-4o", 10 * M, M, "35")], [bill("gpt-4o", "input", None, "40")]))
    assert row["likely_cause"] == "unexplained"


def test_opposite_gaps_on_adjacent_days_are_a_day_boundary_effect(tmp_path):
    next_day = D + timedelta(days=1)
    gateway = [usage("gpt-4o", 11 * M, M, "37.5"), usage("gpt-4o", 9 * M, M, "32.5", day=next_day)]
    billed = _gpt4o_bill(10 * M, M) + [
        {**line, "day": next_day, "line_id": f"n{i}"} for i, line in enumerate(_gpt4o_bill(10 * M, M))
    ]
    provider = [reported("gpt-4o", 10 * M, M), reported("gpt-4o", 10 * M, M, day=next_day)]
    paths = {}
    for param, table, rows in (
        ("usage", "usage_events", gateway),
        ("billing", "billing_lines", billed),
        ("provider_usage", "provider_usage", provider),
    ):
        paths[param] = tmp_path / f"{table}.parquet"
        _frame(table, rows).write_parquet(paths[param])
    out = likely_cause(reconciliation_frame(**paths))
    assert out["gap_usd"].to_list() == [Decimal("-2.5"), Decimal("2.5")]
    assert out["likely_cause"].to_list() == ["day_boundary", "day_boundary"]
    assert "offset by the opposite gap of the day after (+$2.50)" in out["cause_detail"][0]


def test_same_sign_gaps_on_adjacent_days_are_not_a_day_boundary(tmp_path):
    next_day = D + timedelta(days=1)
    gateway = [usage("gpt-4o", 10 * M, M, "35"), usage("gpt-4o", 10 * M, M, "35", day=next_day)]
    billed = _gpt4o_bill(12 * M, 1_200_000) + [
        {**line, "day": next_day, "line_id": f"n{i}"} for i, line in enumerate(_gpt4o_bill(12 * M, 1_200_000))
    ]
    out = reconcile(tmp_path, gateway, billed)
    assert out["likely_cause"].to_list() == ["outside_gateway", "outside_gateway"]


def test_build_reconciliation_day_reads_the_lake_and_sees_the_next_day(tmp_path):
    home = Home(tmp_path)
    next_day = D + timedelta(days=1)
    for day, gw_input, cost in ((D, 11 * M, "37.5"), (next_day, 9 * M, "32.5")):
        for table, rows in (
            ("usage_events", [usage("gpt-4o", gw_input, M, cost, day=day)]),
            ("billing_lines", [{**b, "day": day} for b in _gpt4o_bill(10 * M, M)]),
        ):
            folder = home.table_day(table, day)
            folder.mkdir(parents=True)
            _frame(table, rows).write_parquet(folder / "part-0.parquet")
    assert build_reconciliation_day(home, D) == 1
    row = read_partition(home.mart_day("reconciliation_daily", D)).row(0, named=True)
    assert (row["day"], row["likely_cause"], row["provider_tokens_from"]) == (D, "day_boundary", "billing_lines")


def test_a_day_without_any_input_writes_an_empty_partition(tmp_path):
    home = Home(tmp_path)
    assert build_reconciliation_day(home, D) == 0
    assert "likely_cause" in read_partition(home.mart_day("reconciliation_daily", D)).columns


def test_offsetting_outside_traffic_and_discount_are_not_called_matched(tmp_path):
    row = only(
        reconcile(
            tmp_path,
            [usage("gpt-4o", 10 * M, M, "35")],
            _gpt4o_bill(11 * M, 1_100_000, "0.9"),
            [reported("gpt-4o", 11 * M, 1_100_000)],
        )
    )
    assert row["gap_usd"] == Decimal("-0.35")
    assert (row["outside_gateway_usd"], row["price_difference_usd"]) == (Decimal("3.15"), Decimal("-3.5"))
    assert row["likely_cause"] == "price_difference"
    assert row["cause_detail"].endswith("; also outside gateway +$3.15")


def test_credits_on_bill_lines_count_as_what_the_bill_charges(tmp_path):
    lines = [{**line, "effective_cost": line["billed_cost"] * Decimal("0.8")} for line in _gpt4o_bill(10 * M, M)]
    row = only(reconcile(tmp_path, [usage("gpt-4o", 10 * M, M, "35")], lines, [reported("gpt-4o", 10 * M, M)]))
    assert (row["billed_cost_usd"], row["billed_cost_before_credits_usd"]) == (Decimal(28), Decimal(35))
    assert row["likely_cause"] == "price_difference"
    assert "(credits or promotions on the bill lines)" in row["cause_detail"]


def test_outside_traffic_with_another_cache_mix_is_not_a_cache_miscount(tmp_path):
    gateway = [
        usage("anthropic.claude-3-5-sonnet-20240620-v1:0", 10 * M, M, "28.8", provider="aws_bedrock", cache_read=6 * M)
    ]
    bedrock = [
        bill("Claude3.5Sonnet", "input", 4 * M, "12", provider="aws_bedrock"),
        bill("Claude3.5Sonnet", "cache_read", 8 * M, "2.4", provider="aws_bedrock"),
        bill("Claude3.5Sonnet", "output", 1_200_000, "18", provider="aws_bedrock"),
    ]
    row = only(reconcile(tmp_path, gateway, bedrock))
    assert (row["likely_cause"], row["outside_gateway_usd"], row["cache_miscount_usd"]) == (
        "outside_gateway",
        Decimal("3.6"),
        Decimal(0),
    )


def test_opposite_money_gaps_without_opposite_token_gaps_are_not_a_day_boundary(tmp_path):
    next_day = D + timedelta(days=1)
    gateway = [usage("gpt-4o", 10 * M, M, "35"), usage("gpt-4o", 10 * M, M, "35", day=next_day)]
    billed = _gpt4o_bill(11 * M, 1_100_000, "0.8") + [
        {**line, "day": next_day, "line_id": f"n{i}"} for i, line in enumerate(_gpt4o_bill(11 * M, 1_100_000))
    ]
    provider = [reported("gpt-4o", 11 * M, 1_100_000), reported("gpt-4o", 11 * M, 1_100_000, day=next_day)]
    out = reconcile(tmp_path, gateway, billed, provider)
    assert out["gap_usd"].to_list() == [Decimal("-4.2"), Decimal("3.5")]
    assert out["likely_cause"].to_list() == ["price_difference", "outside_gateway"]
