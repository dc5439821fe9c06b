"""Expectation suites: each check fails on data that breaks it, with a message naming it; clean days pass."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tokenomics.quality import DATA_QUALITY, Expectation, expectations_for, gateway_vs_billing, to_rows, validate
from tokenomics.quality.suites import SCHEMAS, SUITES, parameters
from tokenomics.schema import TOKEN_COLUMNS

DAY = date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _frame(table: str, columns: dict[str, list]) -> pl.DataFrame:
    """A frame in the table's schema: the given columns, every other one null."""
    height = len(next(iter(columns.values())))
    schema = SCHEMAS[table]
    return pl.DataFrame({c: pl.Series(c, columns.get(c, [None] * height), dtype=t) for c, t in schema.items()})


def _money(*values: str) -> list[Decimal]:
    return [Decimal(v) for v in values]


def clean_usage_events() -> pl.DataFrame:
    return _frame("usage_events", {
        "event_id": ["e0", "e1", "e2", "e3"],
        "ts": [T0 + timedelta(minutes=i) for i in range(4)],
        "day": [DAY] * 4,
        "source": ["litellm", "litellm", "otel", "otel"],
        "provider": ["openai", "anthropic", "openai", "aws_bedrock"],
        "model": ["gpt-4o", "claude-sonnet-4", "gpt-4o-mini", "claude-haiku-4"],
        "model_id": ["gpt-4o", "claude-sonnet-4", "gpt-4o-mini", "claude-haiku-4"],
        "team": ["search", "support", "search", "growth"],
        "feature": ["chat", "triage", "rag", "email"],
        "input_tokens": [1000, 2000, 300, 50],
        "cache_read_tokens": [400, 0, 100, 0],
        "cache_write_tokens": [100, 500, 0, 0],
        "output_tokens": [200, 800, 40, 10],
        "reasoning_tokens": [50, 0, 0, 0],
        "requests": [1, 1, 1, 1],
        "is_batch": [False] * 4,
        "service_tier": ["default"] * 4,
        "status": ["ok", "ok", "error", "ok"],
        "latency_ms": [900, 1200, 300, 150],
        "cost_usd": _money("0.004", "0.018", "0.0001", "0.00005"),
        "cost_source": ["catalog", "catalog", "reported", "override"],
        "price_ref": ["gp@0.2.3"] * 4,
    })  # fmt: skip


def clean_billing_lines() -> pl.DataFrame:
    return _frame("billing_lines", {
        "charge_period_start": [T0.replace(hour=0)] * 3,
        "charge_period_end": [T0.replace(hour=0) + timedelta(days=1)] * 3,
        "day": [DAY] * 3,
        "provider": ["openai", "anthropic", "aws_bedrock"],
        "billing_account_id": ["org-1", "org-2", "123456789012"],
        "service_name": ["OpenAI API", "Claude API", "Amazon Bedrock"],
        "sku": ["gpt-4o input", "claude-sonnet-4 output", "USE1-Claude-input-tokens"],
        "billed_cost": _money("1.25", "3.5", "0.75"),
        "effective_cost": _money("1.25", "3.5", "0.70"),
        "billing_currency": ["USD", "USD", "EUR"],
        "line_id": ["l1", "l2", "l3"],
        "source": ["openai_costs", "anthropic_cost", "aws_cur"],
    })  # fmt: skip


def clean_provider_usage() -> pl.DataFrame:
    return _frame("provider_usage", {
        "day": [DAY] * 3,
        "provider": ["openai", "openai", "anthropic"],
        "model": ["gpt-4o", "o3", "claude-sonnet-4"],
        "requests": [10, 4, 7],
        "input_tokens": [10_000, 4_000, 7_000],
        "cache_read_tokens": [2_000, 0, 3_000],
        "cache_write_tokens": [0, 0, 1_000],
        "output_tokens": [1_000, 3_000, 700],
        "reasoning_tokens": [0, 2_500, 0],
        "is_batch": [False] * 3,
        "line_id": ["a", "b", "c"],
        "source": ["openai_usage", "openai_usage", "anthropic_usage"],
    })  # fmt: skip


def clean_usage_daily() -> pl.DataFrame:
    return _frame("usage_daily", {
        "day": [DAY] * 3,
        "team": ["search", "search", "support"],
        "feature": ["chat", "chat", "triage"],
        "provider": ["openai", "openai", "anthropic"],
        "model": ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4"],
        "model_id": ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4"],
        "requests": [100, 400, 50],
        "errors": [1, 0, 2],
        "input_tokens": [100_000, 90_000, 60_000],
        "cache_read_tokens": [30_000, 0, 10_000],
        "cache_write_tokens": [0, 0, 5_000],
        "output_tokens": [20_000, 9_000, 8_000],
        "reasoning_tokens": [0, 0, 1_000],
        "cost_usd": _money("0.45", "0.02", "0.30"),
        "unpriced_requests": [0, 0, 0],
    })  # fmt: skip


def clean_billing_daily() -> pl.DataFrame:
    return _frame("billing_daily", {
        "day": [DAY] * 2,
        "provider": ["openai", "anthropic"],
        "billed_cost": _money("0.50", "0.33"),
        "billed_cost_usd": _money("0.50", "0.33"),
        "effective_cost_usd": _money("0.50", "0.33"),
        "billing_currency": ["USD", "USD"],
    })  # fmt: skip


def clean_gateway_vs_billing() -> pl.DataFrame:
    return gateway_vs_billing(clean_usage_daily(), clean_billing_daily())


CLEAN: dict[str, Callable[[], pl.DataFrame]] = {
    "usage_events": clean_usage_events,
    "billing_lines": clean_billing_lines,
    "provider_usage": clean_provider_usage,
    "usage_daily": clean_usage_daily,
    "billing_daily": clean_billing_daily,
    "gateway_vs_billing": clean_gateway_vs_billing,
}
CONTEXT = {"usage_events": {"previous_day_rows": 4}}
BREAK_CONTEXT = {("usage_events", "day_over_day_volume"): {"previous_day_rows": 100}}


def _set(column: str, row: int, value) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A break: put `value` in `column` on `row`."""

    def apply(frame: pl.DataFrame) -> pl.DataFrame:
        dtype = frame.schema[column]
        return frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row)
            .then(pl.lit(value, dtype=dtype))
            .otherwise(pl.col(column))
            .alias(column)
        )

    return apply


def _copy_row(source: int, target: int, *columns: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A break: make `target` share `columns` with `source` (a duplicate key)."""

    def apply(frame: pl.DataFrame) -> pl.DataFrame:
        for c in columns:
            frame = _set(c, target, frame[c][source])(frame)
        return frame

    return apply


def _drop(column: str):
    return lambda frame: frame.drop(column)


def _cast(column: str, dtype: pl.DataType):
    return lambda frame: frame.with_columns(pl.col(column).cast(dtype))


# (table, check) -> (how to break it, unexpected_count or None, words the message must hold)
BREAKS: dict[tuple[str, str], tuple[Callable, int | None, str]] = {}


def _breaks(table: str, cases: dict[str, tuple[Callable, int | None, str]]) -> None:
    BREAKS.update({(table, name): case for name, case in cases.items()})


def _token_breaks(n_rows: int) -> dict[str, tuple[Callable, int | None, str]]:
    cases = {
        f"{c}_non_negative": (_set(c, 1, -5), 1, f"1 of {n_rows} rows have negative {c} (e.g. -5)")
        for c in TOKEN_COLUMNS
    }
    cases["requests_non_negative"] = (
        _set("requests", 0, -1),
        1,
        f"1 of {n_rows} rows have negative requests (e.g. -1)",
    )
    cases["token_counts_present"] = (
        _set("output_tokens", 0, None),
        1,
        f"1 of {n_rows} rows have a null token count (e.g. in 'output_tokens')",
    )
    cases["cache_within_input"] = (
        _set("cache_read_tokens", 0, 10**9),
        1,
        "rows have cache_read_tokens + cache_write_tokens above input_tokens (e.g. excess",
    )
    cases["reasoning_within_output"] = (
        _set("reasoning_tokens", 0, 10**6),
        1,
        "rows have reasoning_tokens above output_tokens (e.g. excess",
    )
    return cases


def _not_null_breaks(n_rows: int, *columns: str) -> dict[str, tuple[Callable, int | None, str]]:
    return {f"{c}_not_null": (_set(c, 1, None), 1, f"1 of {n_rows} rows have a null {c}") for c in columns}


_breaks("usage_events", {
    "columns_present": (_drop("cost_usd"), 1, "missing 1 column(s): cost_usd"),
    "column_types": (_cast("latency_ms", pl.Float64), 1, "latency_ms is Float64 (expected Int64)"),
    **_not_null_breaks(4, "event_id", "ts", "day", "source", "provider", "model", "team", "feature"),
    "event_key_unique": (
        _copy_row(0, 1, "source", "event_id"), 2, "2 of 4 rows share their (source, event_id) with another row (e.g. key 'litellm|e0')"
    ),
    **_token_breaks(4),
    "provider_known": (_set("provider", 2, "open-ai"), 1, "1 of 4 rows have a provider outside the canonical providers (e.g. 'open-ai')"),
    "status_known": (_set("status", 0, "timeout"), 1, "have a status outside"),
    "cost_source_known": (_set("cost_source", 0, "guess"), 1, "have a cost_source outside"),
    "unpriced_share": (
        _set("cost_source", 1, "unpriced"), 1,
        "1 of 4 rows are on a model the price catalog does not know (cost_source 'unpriced') (25.00%, above the 1.00% allowed)"
        " (e.g. model 'claude-sonnet-4')",
    ),
    "zero_cost_with_tokens_share": (_set("cost_usd", 0, Decimal(0)), 1, "1 of 4 rows used tokens but cost exactly 0 (25.00%"),
    "unknown_provider_share": (_set("provider", 3, "other"), 1, "have a provider name that normalized to 'other'"),
    "unattributed_spend_share": (
        _set("team", 1, "unattributed"), None,
        "share of the day's spend attributed to team 'unattributed' is 81.26% (allowed at most 20.00%)",
    ),
    "day_over_day_volume": (  # the break is in the context: yesterday had 100 rows
        lambda frame: frame, None, "row count is 4 (allowed 25 to 400); context: previous_day_rows=100",
    ),
})  # fmt: skip
_breaks("billing_lines", {
    "columns_present": (_drop("sku"), 1, "missing 1 column(s): sku"),
    "column_types": (_cast("billed_cost", pl.Float64), 1, "billed_cost is Float64 (expected Decimal(precision=38, scale=12))"),
    **_not_null_breaks(
        3, "charge_period_start", "charge_period_end", "day", "provider", "billed_cost", "billing_currency", "source"
    ),
    "line_key_unique": (_copy_row(0, 2, "source", "line_id"), 2, "(e.g. key 'openai_costs|l1')"),
    "charge_period_ordered": (
        _set("charge_period_end", 1, T0.replace(hour=0)), 1,
        "1 of 3 rows end their charge period before it starts (e.g. length in seconds 0)",
    ),
    "provider_known": (_set("provider", 0, "OpenAI"), 1, "(e.g. 'OpenAI')"),
    "billing_currency_known": (_set("billing_currency", 2, "US$"), 1, "1 of 3 rows have a billing_currency outside the known ISO 4217 currencies (e.g. 'US$')"),
})  # fmt: skip
_breaks("provider_usage", {
    "columns_present": (_drop("reasoning_tokens"), 1, "missing 1 column(s): reasoning_tokens"),
    "column_types": (_cast("requests", pl.String), 1, "requests is String (expected Int64)"),
    **_not_null_breaks(3, "day", "provider", "model", "source"),
    "line_key_unique": (_copy_row(1, 0, "line_id"), 2, "share their (source, line_id)"),
    **_token_breaks(3),
    "provider_known": (_set("provider", 0, "azure"), 1, "(e.g. 'azure')"),
})  # fmt: skip
_breaks("usage_daily", {
    "columns_present": (_drop("unpriced_requests"), 1, "missing 1 column(s): unpriced_requests"),
    "column_types": (_cast("cost_usd", pl.Float64), 1, "cost_usd is Float64"),
    **_not_null_breaks(3, "day", "team", "feature", "provider", "model"),
    "grain_unique": (_copy_row(0, 1, "model", "model_id"), 2, "(e.g. key '2026-03-02|search|chat|openai|gpt-4o|"),
    **_token_breaks(3),
    "errors_non_negative": (_set("errors", 0, -2), 1, "1 of 3 rows have negative errors (e.g. -2)"),
    "unpriced_requests_non_negative": (_set("unpriced_requests", 0, -1), 1, "have negative unpriced_requests"),
    "errors_within_requests": (_set("errors", 2, 60), 1, "1 of 3 rows have errors above requests (e.g. excess 10)"),
    "provider_known": (_set("provider", 1, "gemini"), 1, "(e.g. 'gemini')"),
    "unpriced_share": (
        _set("unpriced_requests", 1, 55), None,
        "share of requests on a model the price catalog does not know is 10.00% (allowed at most 1.00%)",
    ),
    "zero_cost_with_tokens_share": (_set("cost_usd", 1, Decimal(0)), 1, "1 of 3 rows used tokens, were all priced, and cost exactly 0"),
    "unattributed_spend_share": (_set("team", 0, "unattributed"), None, "attributed to team 'unattributed' is 58.44% (allowed at most 20.00%)"),
})  # fmt: skip
_breaks("billing_daily", {
    "columns_present": (_drop("billing_currency"), 1, "missing 1 column(s): billing_currency"),
    "column_types": (_cast("day", pl.String), 1, "day is String (expected Date)"),
    **_not_null_breaks(2, "day", "provider", "billed_cost", "billing_currency"),
    "grain_unique": (_set("provider", 1, "openai"), 2, "2 of 2 rows share their (day, provider, billing_currency)"),
    "provider_known": (_set("provider", 1, "claude"), 1, "(e.g. 'claude')"),
    "billing_currency_known": (_set("billing_currency", 0, "usd"), 1, "(e.g. 'usd')"),
})  # fmt: skip
_breaks("gateway_vs_billing", {
    "columns_present": (_drop("billed_cost_usd"), 1, "missing 1 column(s): billed_cost_usd"),
    "column_types": (_cast("gateway_cost_usd", pl.Float64), 1, "gateway_cost_usd is Float64"),
    "gateway_over_billed_within_bounds": (
        _set("billed_cost_usd", 0, Decimal("0.1")), 1,
        "1 of 2 rows (provider-days) have gateway/billed cost outside 0.5..1.5 (e.g. ratio 3)",
    ),
})  # fmt: skip


def _by_name(outcomes) -> dict:
    return {o.name: o for o in outcomes}


@pytest.fixture(scope="module", autouse=True)
def gx_once():
    """Pay the GX import once for the module (2-3 s); every test then reuses the process-level context."""
    from tokenomics.quality.runner import _gx

    _gx()


def test_every_expectation_has_a_breaking_case():
    covered = set(BREAKS)
    suites = {(table, e.name) for table, exps in SUITES.items() for e in exps}
    assert suites - covered == set()
    assert covered - suites == set()


@pytest.mark.parametrize("table", list(CLEAN))
def test_clean_day_passes_every_check(table):
    outcomes = validate(table, CLEAN[table](), context=CONTEXT.get(table))
    failed = [o.message for o in outcomes if not o.passed]
    assert failed == []
    assert [o.name for o in outcomes] == [e.name for e in expectations_for(table)]


@pytest.mark.parametrize(("table", "name"), sorted(BREAKS), ids=[f"{t}.{n}" for t, n in sorted(BREAKS)])
def test_breaking_data_fails_the_check_with_a_clear_message(table, name):
    breaking, unexpected, words = BREAKS[table, name]
    expectation = next(e for e in expectations_for(table) if e.name == name)
    broken = breaking(CLEAN[table]())

    context = BREAK_CONTEXT.get((table, name), CONTEXT.get(table))
    [outcome] = validate(table, broken, context=context, expectations=[expectation])

    assert outcome.passed is False
    assert outcome.exception is None, outcome.exception
    assert outcome.message.startswith(f"{table}.{name}: "), outcome.message
    assert words in outcome.message
    assert outcome.unexpected_count == unexpected


def test_failure_message_reads_like_the_example():
    frame = clean_usage_events().with_columns(pl.Series("output_tokens", [200, -5, 40, 10]))
    outcome = _by_name(validate("usage_events", frame, context=CONTEXT["usage_events"]))["output_tokens_non_negative"]
    assert (
        outcome.message == "usage_events.output_tokens_non_negative: 1 of 4 rows have negative output_tokens (e.g. -5)"
    )
    assert (outcome.unexpected_percent, outcome.sample, outcome.severity) == (25.0, [-5], "ERROR")


def test_chunked_validation_matches_one_batch_and_finds_duplicates_across_chunks():
    frame = _copy_row(0, 3, "source", "event_id")(_set("cost_source", 1, "unpriced")(clean_usage_events()))
    frame = _set("team", 2, "unattributed")(frame)
    whole = _by_name(validate("usage_events", frame, context={"previous_day_rows": 40}))
    chunked = _by_name(validate("usage_events", frame, context={"previous_day_rows": 40}, chunk_rows=1))
    for name, one in whole.items():
        many = chunked[name]
        assert (many.passed, many.unexpected_count, many.observed_value) == (
            one.passed, one.unexpected_count, one.observed_value,
        ), name  # fmt: skip
    assert chunked["event_key_unique"].unexpected_count == 2  # rows 0 and 3 sit in different chunks
    assert chunked["unpriced_share"].passed is False
    assert chunked["unattributed_spend_share"].observed_value == pytest.approx(0.0001 / 0.02215)
    assert chunked["day_over_day_volume"].message == (
        "usage_events.day_over_day_volume: row count is 4 (allowed 10 to 160); context: previous_day_rows=40"
    )


def test_day_over_day_is_not_run_without_a_previous_day():
    outcome = _by_name(validate("usage_events", clean_usage_events()))["day_over_day_volume"]
    assert outcome.passed is True
    assert outcome.message == (
        "usage_events.day_over_day_volume: not checked, no previous_day_rows in context (first day?)"
    )


def test_day_over_day_bounds_come_from_the_previous_day():
    assert parameters({"previous_day_rows": 1000}) == {"min_rows": 250, "max_rows": 4000}
    assert parameters({}) == {"min_rows": 0, "max_rows": None}
    outcome = _by_name(validate("usage_events", clean_usage_events(), context={"previous_day_rows": 20}))
    assert (outcome["day_over_day_volume"].passed, outcome["day_over_day_volume"].observed_value) == (False, 4)


def test_a_gx_crash_is_a_failure_with_its_message():
    bogus = Expectation(
        "ghost_non_negative", "usage_events", "ExpectColumnValuesToBeBetween",
        {"column": "ghost_tokens", "min_value": 0}, "ERROR", "a column that is not there",
        problem="have negative ghost_tokens",
    )  # fmt: skip
    [outcome] = validate("usage_events", clean_usage_events(), expectations=[bogus])
    assert outcome.passed is False
    assert outcome.exception == 'Error: The column "ghost_tokens" in BatchData does not exist.'
    assert outcome.message == (
        'usage_events.ghost_non_negative: check could not run: Error: The column "ghost_tokens" in BatchData does not exist.'
    )


def test_an_unbuildable_expectation_is_a_failure_not_a_crash():
    bogus = Expectation("made_up", "usage_events", "ExpectNothingAtAll", {"column": "model"}, "WARN", "no such class")
    [outcome] = validate("usage_events", clean_usage_events(), expectations=[bogus])
    assert outcome.passed is False
    assert outcome.exception.startswith("cannot build ExpectNothingAtAll: AttributeError")


def test_a_missing_source_column_fails_the_checks_that_read_it():
    frame = clean_usage_events().drop("output_tokens")
    outcomes = _by_name(validate("usage_events", frame, context=CONTEXT["usage_events"]))
    assert outcomes["columns_present"].message == "usage_events.columns_present: missing 1 column(s): output_tokens"
    missing = 'Error: The column "output_tokens" in BatchData does not exist.'
    assert outcomes["output_tokens_non_negative"].exception == missing
    assert outcomes["reasoning_within_output"].exception == (
        "derived column reasoning_excess_tokens needs column(s) output_tokens, absent from the frame"
    )
    assert outcomes["input_tokens_non_negative"].passed is True


def test_duplicate_keys_are_compared_exactly_not_by_label():
    frame = clean_usage_events().with_columns(
        pl.Series("source", ["a|b", "a", "otel", "otel"]), pl.Series("event_id", ["c", "b|c", "e2", "e3"])
    )
    outcome = _by_name(validate("usage_events", frame, context=CONTEXT["usage_events"]))["event_key_unique"]
    assert (outcome.passed, outcome.unexpected_count) == (True, 0)


def test_an_empty_day_passes_the_row_checks():
    outcomes = validate("usage_events", clean_usage_events().head(0))
    assert [o.message for o in outcomes if not o.passed] == []


def test_check_names_are_dagster_identifiers_unique_per_table():
    for table in SUITES:
        names = [e.name for e in expectations_for(table)]
        assert len(names) == len(set(names)), table
        assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names), names
        assert {e.severity for e in expectations_for(table)} <= {"ERROR", "WARN"}


def test_shares_and_ratios_warn_while_structure_blocks():
    by_name = {e.name: e for e in expectations_for("usage_events")}
    assert by_name["event_key_unique"].blocking and by_name["columns_present"].blocking
    warn = {
        "unpriced_share", "zero_cost_with_tokens_share", "unknown_provider_share", "unattributed_spend_share",
        "day_over_day_volume",
    }  # fmt: skip
    assert {n for n, e in by_name.items() if not e.blocking} == warn


def test_unknown_table_names_the_known_ones():
    with pytest.raises(KeyError, match="no expectation suite for table 'usage'; known: usage_events"):
        expectations_for("usage")


def test_to_rows_gives_one_data_quality_row_per_check():
    frame = _set("provider", 0, "open-ai")(clean_usage_events())
    outcomes = validate("usage_events", frame, context=CONTEXT["usage_events"])
    at = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    rows = to_rows(outcomes, DAY, checked_at=at)
    assert rows.schema == pl.Schema(DATA_QUALITY)
    assert rows.height == len(expectations_for("usage_events"))
    provider = rows.filter(pl.col("check") == "provider_known").row(0, named=True)
    assert provider["passed"] is False and provider["severity"] == "ERROR" and provider["unexpected_count"] == 1
    assert provider["observed_value"] == "0.25" and json.loads(provider["sample"]) == ["open-ai"]
    assert rows["checked_at"].unique().to_list() == [at]


def test_gateway_vs_billing_joins_cost_per_provider_and_day():
    usage = clean_usage_daily().vstack(_set("provider", 0, "mistral")(clean_usage_daily().head(1)))
    joined = gateway_vs_billing(usage, clean_billing_daily())
    assert joined.select("provider", "gateway_cost_usd", "billed_cost_usd").rows() == [
        ("anthropic", Decimal("0.3"), Decimal("0.33")),
        ("mistral", Decimal("0.45"), None),
        ("openai", Decimal("0.47"), Decimal("0.5")),
    ]
    outcome = _by_name(validate("gateway_vs_billing", joined))["gateway_over_billed_within_bounds"]
    assert (outcome.passed, outcome.unexpected_count) == (True, 0)  # mistral has no bill: not comparable


def test_importing_the_package_does_not_import_gx():
    code = "import sys, tokenomics.quality; assert 'great_expectations' not in sys.modules"
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
