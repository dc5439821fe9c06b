"""Expectation suites kept as data: one list per table, each entry a GX expectation with a severity.

ERROR marks a structural break (blocking: the day is not published); WARN marks a share or a ratio
worth a look (recorded and shown, never blocking). Every name is a valid Dagster check name.
Thresholds are module constants so a reviewer sees them in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from tokenomics.quality.derived import gateway_vs_billing
from tokenomics.schema import (
    BILLING_LINES,
    KNOWN_PROVIDERS,
    MONEY,
    PROVIDER_USAGE,
    TOKEN_COLUMNS,
    USAGE_EVENTS,
    Schema,
)
from tokenomics.tables import grain

Severity = Literal["ERROR", "WARN"]

MAX_UNPRICED_SHARE = 0.01
"""Share of requests on a model the price catalog does not know (priced as nothing, not as 0)."""
MAX_ZERO_COST_SHARE = 0.01
"""Share of rows that used tokens but cost exactly 0: a price entry of 0 is more often a bug than a gift."""
MAX_UNKNOWN_PROVIDER_SHARE = 0.01
"""Share of rows whose provider name normalized to 'other'."""
MAX_UNATTRIBUTED_SPEND_SHARE = 0.20
"""Share of the day's spend no attribution rule claimed (cost-weighted, not row-weighted)."""
VOLUME_FACTOR = 4.0
"""Day-over-day row count must stay within previous/4 .. previous*4."""
GATEWAY_OVER_BILLED = (0.5, 1.5)
"""Gateway estimate / billed cost per provider and day: below 0.5 much traffic bypasses the gateway,
above 1.5 the price catalog or the dedup is off."""

ISO_CURRENCIES = (
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "CNY", "HKD", "SGD", "INR", "KRW", "TWD",
    "SEK", "NOK", "DKK", "ISK", "PLN", "CZK", "HUF", "RON", "BGN", "TRY", "ILS", "AED", "SAR", "QAR",
    "ZAR", "BRL", "MXN", "ARS", "CLP", "COP", "PEN", "THB", "IDR", "MYR", "PHP", "VND",
)  # fmt: skip
"""Currencies a bill may be in (ISO 4217 codes of the currencies cloud providers invoice in)."""

USAGE_DAILY: Schema = {
    "day": pl.Date,
    "team": pl.String,
    "feature": pl.String,
    "provider": pl.String,
    "model": pl.String,
    "model_id": pl.String,
    "requests": pl.Int64,
    "errors": pl.Int64,
    **{c: pl.Int64 for c in TOKEN_COLUMNS},
    "cost_usd": MONEY,
    "unpriced_requests": pl.Int64,
}

BILLING_DAILY: Schema = {
    "day": pl.Date,
    "provider": pl.String,
    "billed_cost": MONEY,
    "billed_cost_usd": MONEY,
    "effective_cost_usd": MONEY,
    "billing_currency": pl.String,
}

GATEWAY_VS_BILLING: Schema = {
    "day": pl.Date,
    "provider": pl.String,
    "gateway_cost_usd": MONEY,
    "billed_cost_usd": MONEY,
}

SCHEMAS: dict[str, Schema] = {
    "usage_events": USAGE_EVENTS,
    "billing_lines": BILLING_LINES,
    "provider_usage": PROVIDER_USAGE,
    "usage_daily": USAGE_DAILY,
    "billing_daily": BILLING_DAILY,
    "gateway_vs_billing": GATEWAY_VS_BILLING,
}


@dataclass(frozen=True, eq=False)
class Expectation:
    """One check: a GX expectation class and its arguments, with the severity it carries downstream.

    `gx_class` None means the runner evaluates it in Polars: column dtypes, because GX type
    expectations misread pandas-3 `str` columns. `derive` names a column from
    `tokenomics.quality.derived.DERIVED` added before validation. `problem` completes the failure
    message ("3 of 1,000 rows <problem>", or "<problem> is 0.31"); `sample_label` says what the
    sampled values are when they are not the column's own values ("e.g. excess 5"). `requires`
    lists context keys the check needs; without them it is reported as not run.
    """

    name: str
    table: str
    gx_class: str | None
    kwargs: Mapping[str, Any]
    severity: Severity
    description: str
    derive: str | None = None
    problem: str = ""
    sample_label: str = ""
    requires: tuple[str, ...] = field(default=())

    @property
    def blocking(self) -> bool:
        return self.severity == "ERROR"


def parameters(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """GX `$PARAMETER` values for the context-dependent expectations (day-over-day volume)."""
    context = context or {}
    previous = context.get("previous_day_rows")
    if not previous:  # no baseline (first day, or an empty previous day): nothing to compare
        return {"min_rows": 0, "max_rows": None}
    return {"min_rows": int(previous / VOLUME_FACTOR), "max_rows": int(previous * VOLUME_FACTOR + 0.5)}


# ---- builders: each returns the expectation(s) for one kind of rule --------------------------------


def _columns(table: str) -> list[Expectation]:
    schema = SCHEMAS[table]
    return [
        Expectation(
            "columns_present", table, "ExpectTableColumnsToMatchSet",
            {"column_set": list(schema), "exact_match": False}, "ERROR",
            f"every canonical {table} column is present (extra columns are allowed)",
            problem="columns",
        ),
        Expectation(
            "column_types", table, None, {"schema": schema}, "ERROR",
            f"every {table} column has its canonical type (checked on the Polars dtypes)",
            problem="columns",
        ),
    ]  # fmt: skip


def _not_null(table: str, *columns: str) -> list[Expectation]:
    return [
        Expectation(
            f"{c}_not_null", table, "ExpectColumnValuesToNotBeNull", {"column": c}, "ERROR",
            f"{c} is never null", problem=f"have a null {c}",
        )
        for c in columns
    ]  # fmt: skip


def _non_negative(table: str, *columns: str) -> list[Expectation]:
    return [
        Expectation(
            f"{c}_non_negative", table, "ExpectColumnValuesToBeBetween", {"column": c, "min_value": 0}, "ERROR",
            f"{c} is never negative", problem=f"have negative {c}",
        )
        for c in columns
    ]  # fmt: skip


def _tokens_present(table: str) -> Expectation:
    return Expectation(
        "token_counts_present", table, "ExpectColumnValuesToBeNull", {"column": "null_token_column"}, "ERROR",
        "no token count is null (a missing count would silently shrink every sum)",
        derive="null_token_column", problem="have a null token count", sample_label="in",
    )  # fmt: skip


def _unique(table: str, name: str, derive: str, keys: str) -> Expectation:
    return Expectation(
        name, table, "ExpectColumnValuesToBeNull", {"column": derive}, "ERROR",
        f"({keys}) is unique over the whole day (duplicates found in Polars before chunking)",
        derive=derive, problem=f"share their ({keys}) with another row", sample_label="key",
    )  # fmt: skip


def _subset_within_total(table: str, name: str, derive: str, subset: str, total: str) -> Expectation:
    return Expectation(
        name, table, "ExpectColumnValuesToBeBetween", {"column": derive, "max_value": 0}, "ERROR",
        f"{subset} never exceeds {total} (totals include their subsets)",
        derive=derive, problem=f"have {subset} above {total}", sample_label="excess",
    )  # fmt: skip


def _in_set(table: str, column: str, values: tuple[str, ...], what: str) -> Expectation:
    return Expectation(
        f"{column}_known", table, "ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values)},
        "ERROR", f"{column} is one of the {what}", problem=f"have a {column} outside the {what}",
    )  # fmt: skip


def _share_of_rows(table: str, name: str, derive: str, max_share: float, problem: str) -> Expectation:
    return Expectation(
        name, table, "ExpectColumnValuesToBeNull", {"column": derive, "mostly": round(1 - max_share, 12)}, "WARN",
        f"at most {max_share:.0%} of rows {problem}", derive=derive, problem=problem,
        sample_label="model",
    )  # fmt: skip


def _share_of_sum(table: str, name: str, derive: str, max_share: float, problem: str) -> Expectation:
    return Expectation(
        name, table, "ExpectColumnSumToBeBetween", {"column": derive, "min_value": 0, "max_value": max_share},
        "WARN", f"{problem} is at most {max_share:.0%}", derive=derive, problem=problem,
    )  # fmt: skip


def _token_invariants(table: str) -> list[Expectation]:
    return [
        *_non_negative(table, *TOKEN_COLUMNS, "requests"),
        _tokens_present(table),
        _subset_within_total(
            table, "cache_within_input", "cache_excess_tokens", "cache_read_tokens + cache_write_tokens", "input_tokens"
        ),
        _subset_within_total(
            table, "reasoning_within_output", "reasoning_excess_tokens", "reasoning_tokens", "output_tokens"
        ),
    ]  # fmt: skip


# ---- the suites -----------------------------------------------------------------------------------

_UNPRICED = "are on a model the price catalog does not know (cost_source 'unpriced')"
_ZERO_COST = "used tokens but cost exactly 0"
_UNKNOWN_PROVIDER = "have a provider name that normalized to 'other'"
_UNATTRIBUTED = "share of the day's spend attributed to team 'unattributed'"

USAGE_EVENTS_SUITE = [
    *_columns("usage_events"),
    *_not_null("usage_events", "event_id", "ts", "day", "source", "provider", "model", "team", "feature"),
    _unique("usage_events", "event_key_unique", "duplicate_event_key", "source, event_id"),
    *_token_invariants("usage_events"),
    _in_set("usage_events", "provider", KNOWN_PROVIDERS, "canonical providers"),
    _in_set("usage_events", "status", ("ok", "error"), "statuses ok, error"),
    _in_set("usage_events", "cost_source", ("catalog", "override", "reported", "unpriced"), "cost sources"),
    _share_of_rows("usage_events", "unpriced_share", "unpriced_model", MAX_UNPRICED_SHARE, _UNPRICED),
    _share_of_rows("usage_events", "zero_cost_with_tokens_share", "zero_cost_model", MAX_ZERO_COST_SHARE, _ZERO_COST),
    _share_of_rows(
        "usage_events", "unknown_provider_share", "unknown_provider_model", MAX_UNKNOWN_PROVIDER_SHARE,
        _UNKNOWN_PROVIDER,
    ),
    _share_of_sum(
        "usage_events", "unattributed_spend_share", "unattributed_spend_share", MAX_UNATTRIBUTED_SPEND_SHARE,
        _UNATTRIBUTED,
    ),
    Expectation(
        "day_over_day_volume", "usage_events", "ExpectTableRowCountToBeBetween",
        {"min_value": {"$PARAMETER": "min_rows"}, "max_value": {"$PARAMETER": "max_rows"}}, "WARN",
        f"the day's row count is within 1/{VOLUME_FACTOR:g} and {VOLUME_FACTOR:g}x the previous day's",
        problem="row count", requires=("previous_day_rows",),
    ),
]  # fmt: skip

BILLING_LINES_SUITE = [
    *_columns("billing_lines"),
    *_not_null(
        "billing_lines", "charge_period_start", "charge_period_end", "day", "provider", "billed_cost",
        "billing_currency", "source",
    ),
    _unique("billing_lines", "line_key_unique", "duplicate_line_key", "source, line_id"),
    Expectation(
        "charge_period_ordered", "billing_lines", "ExpectColumnValuesToBeBetween",
        {"column": "charge_period_seconds", "min_value": 1}, "ERROR",
        "charge_period_end is after charge_period_start", derive="charge_period_seconds",
        problem="end their charge period before it starts", sample_label="length in seconds",
    ),
    _in_set("billing_lines", "provider", KNOWN_PROVIDERS, "canonical providers"),
    _in_set("billing_lines", "billing_currency", ISO_CURRENCIES, "known ISO 4217 currencies"),
]  # fmt: skip

PROVIDER_USAGE_SUITE = [
    *_columns("provider_usage"),
    *_not_null("provider_usage", "day", "provider", "model", "source"),
    _unique("provider_usage", "line_key_unique", "duplicate_line_key", "source, line_id"),
    *_token_invariants("provider_usage"),
    _in_set("provider_usage", "provider", KNOWN_PROVIDERS, "canonical providers"),
]

USAGE_DAILY_SUITE = [
    *_columns("usage_daily"),
    *_not_null("usage_daily", "day", "team", "feature", "provider", "model"),
    _unique("usage_daily", "grain_unique", "duplicate_usage_daily_grain", ", ".join(grain("usage_daily"))),
    *_token_invariants("usage_daily"),
    *_non_negative("usage_daily", "errors", "unpriced_requests"),
    _subset_within_total("usage_daily", "errors_within_requests", "errors_excess_requests", "errors", "requests"),
    _in_set("usage_daily", "provider", KNOWN_PROVIDERS, "canonical providers"),
    _share_of_sum(
        "usage_daily", "unpriced_share", "unpriced_request_share", MAX_UNPRICED_SHARE,
        "share of requests on a model the price catalog does not know",
    ),
    _share_of_rows(
        "usage_daily", "zero_cost_with_tokens_share", "zero_cost_model_daily", MAX_ZERO_COST_SHARE,
        "used tokens, were all priced, and cost exactly 0",
    ),
    _share_of_sum(
        "usage_daily", "unattributed_spend_share", "unattributed_spend_share", MAX_UNATTRIBUTED_SPEND_SHARE,
        _UNATTRIBUTED,
    ),
]  # fmt: skip

BILLING_DAILY_SUITE = [
    *_columns("billing_daily"),
    *_not_null("billing_daily", "day", "provider", "billed_cost", "billing_currency"),
    _unique("billing_daily", "grain_unique", "duplicate_billing_daily_grain", ", ".join(grain("billing_daily"))),
    _in_set("billing_daily", "provider", KNOWN_PROVIDERS, "canonical providers"),
    _in_set("billing_daily", "billing_currency", ISO_CURRENCIES, "known ISO 4217 currencies"),
]

_LOW, _HIGH = GATEWAY_OVER_BILLED
GATEWAY_VS_BILLING_SUITE = [
    *_columns("gateway_vs_billing"),
    Expectation(
        "gateway_over_billed_within_bounds", "gateway_vs_billing", "ExpectColumnValuesToBeBetween",
        {"column": "gateway_over_billed", "min_value": _LOW, "max_value": _HIGH}, "WARN",
        f"gateway cost estimate / billed cost is within {_LOW:g}..{_HIGH:g}"
        " for every provider and day seen on both sides",
        derive="gateway_over_billed", sample_label="ratio",
        problem=f"(provider-days) have gateway/billed cost outside {_LOW:g}..{_HIGH:g}",
    ),
]  # fmt: skip

SUITES: dict[str, list[Expectation]] = {
    "usage_events": USAGE_EVENTS_SUITE,
    "billing_lines": BILLING_LINES_SUITE,
    "provider_usage": PROVIDER_USAGE_SUITE,
    "usage_daily": USAGE_DAILY_SUITE,
    "billing_daily": BILLING_DAILY_SUITE,
    "gateway_vs_billing": GATEWAY_VS_BILLING_SUITE,
}


def expectations_for(table: str) -> list[Expectation]:
    """The suite for `table` (one Dagster asset check per entry; ERROR ones blocking)."""
    try:
        return list(SUITES[table])
    except KeyError:
        raise KeyError(f"no expectation suite for table {table!r}; known: {', '.join(SUITES)}") from None


__all__ = ["Expectation", "expectations_for", "gateway_vs_billing", "parameters"]
