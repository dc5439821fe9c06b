"""What one check concluded, in words a reader acts on, and the `data_quality` rows it becomes."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl

from tokenomics.quality.suites import Expectation
from tokenomics.schema import UTC_TS, Schema

SAMPLE_SIZE = 10

DATA_QUALITY: Schema = {
    "day": pl.Date,
    "table": pl.String,
    "check": pl.String,
    "severity": pl.String,
    "passed": pl.Boolean,
    "observed_value": pl.String,
    "unexpected_count": pl.Int64,
    "unexpected_percent": pl.Float64,
    "sample": pl.String,  # JSON list, up to 10 values
    "message": pl.String,
    "exception": pl.String,
    "checked_at": UTC_TS,
}
"""One row per (day, table, check): data health over time for a BI dashboard."""


@dataclass(frozen=True)
class Outcome:
    """The result of one expectation on one table's day. `passed` is False whenever the check crashed."""

    name: str
    table: str
    severity: str
    passed: bool
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample: list[Any] = field(default_factory=list)
    message: str = ""
    exception: str | None = None

    @property
    def blocking(self) -> bool:
        """A failed ERROR check stops the publish; a failed WARN is recorded and shown."""
        return not self.passed and self.severity == "ERROR"


def plain(value: Any) -> Any:
    """A JSON-friendly Python value for a sample or observed value (numpy/pandas scalars, NaN -> None)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isfinite(value) and value.is_integer():
            return int(value)  # int columns with nulls reach GX as float64
        return value
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value else None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    try:
        if value != value:  # NaT and other NaN-likes
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def sample_of(values: Iterable[Any]) -> list[Any]:
    """Up to SAMPLE_SIZE distinct non-null values, first seen first."""
    seen: list[Any] = []
    for v in values:
        v = plain(v)
        if v is not None and v not in seen:
            seen.append(v)
            if len(seen) == SAMPLE_SIZE:
                break
    return seen


def _number(value: Any, percent: bool = False) -> str:
    value = plain(value)
    if percent and isinstance(value, (int, float)):
        return f"{value:.2%}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}"
    return str(value)


def _examples(sample: list[Any], label: str = "") -> str:
    if not sample:
        return ""
    shown = ", ".join(repr(v) if isinstance(v, str) else _number(v) for v in sample[:3])
    return f" (e.g. {label + ' ' if label else ''}{shown})"


def _head(exp: Expectation, passed: bool) -> str:
    return f"{exp.table}.{exp.name}: " + ("ok, " if passed else "")


def rows_message(exp: Expectation, passed: bool, unexpected: int, total: int, sample: list[Any]) -> str:
    """'usage_events.output_tokens_non_negative: 3 of 1,000 rows have negative output_tokens (e.g. -5)'."""
    text = f"{_head(exp, passed)}{unexpected:,} of {total:,} rows {exp.problem}"
    mostly = exp.kwargs.get("mostly")
    if mostly is not None and mostly < 1:
        share = unexpected / total if total else 0.0
        limit = "above the" if not passed else "within the"
        text += f" ({share:.2%}, {limit} {1 - mostly:.2%} allowed)"
    return text + ("" if passed else _examples(sample, exp.sample_label))


def bounds_text(low: Any, high: Any, percent: bool = False) -> str:
    if low == 0 and percent:
        low = None  # a share is never below 0: "at most" says it
    if low is not None and high is not None:
        return f"allowed {_number(low, percent)} to {_number(high, percent)}"
    if high is not None:
        return f"allowed at most {_number(high, percent)}"
    if low is not None:
        return f"allowed at least {_number(low, percent)}"
    return "no bounds"


def value_message(exp: Expectation, passed: bool, observed: Any, low: Any, high: Any, context: Mapping) -> str:
    """'usage_events.unattributed_spend_share: share of ... is 35.00% (allowed at most 20.00%)'.

    Checks named `*_share` hold a fraction of the day and read as percentages.
    """
    percent = exp.name.endswith("_share")
    text = f"{_head(exp, passed)}{exp.problem} is {_number(observed, percent)} ({bounds_text(low, high, percent)})"
    given = [f"{k}={_number(context[k])}" for k in exp.requires if k in context]
    return text + (f"; context: {', '.join(given)}" if given else "")


def columns_message(exp: Expectation, passed: bool, missing: list[str], extra: list[str], expected: int) -> str:
    if not passed:
        return f"{_head(exp, passed)}missing {len(missing)} column(s): {', '.join(missing)}"
    more = f" (+{len(extra)} extra: {', '.join(extra[:5])})" if extra else ""
    return f"{_head(exp, passed)}all {expected} columns present{more}"


def types_message(exp: Expectation, mismatches: list[str]) -> str:
    if not mismatches:
        return f"{_head(exp, True)}every column present has its canonical type"
    return f"{_head(exp, False)}{len(mismatches)} column(s) have the wrong type: {'; '.join(mismatches)}"


def crashed(exp: Expectation, error: str) -> Outcome:
    """A check that could not run is a failure that says why, never a pass."""
    return Outcome(
        exp.name, exp.table, exp.severity, False,
        message=f"{exp.table}.{exp.name}: check could not run: {error}", exception=error,
    )  # fmt: skip


def not_run(exp: Expectation, observed: Any) -> Outcome:
    """A context-dependent check without its context (e.g. the first day has no previous day)."""
    need = ", ".join(k for k in exp.requires)
    return Outcome(
        exp.name, exp.table, exp.severity, True, observed_value=plain(observed),
        message=f"{exp.table}.{exp.name}: not checked, no {need} in context (first day?)",
    )  # fmt: skip


def _text(value: Any) -> str | None:
    value = plain(value)
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def to_rows(outcomes: Iterable[Outcome], day: date, *, checked_at: datetime | None = None) -> pl.DataFrame:
    """The `data_quality` rows for one day: one per (table, check)."""
    checked_at = checked_at or datetime.now(UTC)
    rows = [
        {
            "day": day,
            "table": o.table,
            "check": o.name,
            "severity": o.severity,
            "passed": o.passed,
            "observed_value": _text(o.observed_value),
            "unexpected_count": o.unexpected_count,
            "unexpected_percent": o.unexpected_percent,
            "sample": json.dumps([plain(v) for v in o.sample]),
            "message": o.message,
            "exception": o.exception,
            "checked_at": checked_at,
        }
        for o in outcomes
    ]
    return pl.DataFrame(rows, schema=DATA_QUALITY)
