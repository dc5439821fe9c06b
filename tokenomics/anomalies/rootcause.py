"""Root cause of an anomaly: rank child contributions to the dollar impact and say it in one line.

Children of a parent (a team, a team's feature or a team's model) are its (feature, model) pairs.
Each child's expected value comes from the same detector run on the child's own daily series, so a
child that has just appeared (cold start) is expected at 0 and carries all of its value as impact.
Shares are of the sum of child impacts, which is the parent's impact up to the non-additivity of
medians.

Which token type drove a child's change is worded with rough relative prices per token type
(TOKEN_TYPE_WEIGHTS): usage_daily has one cost per row, not one per token type. The weights only pick
the words "input tokens" or "output tokens"; no dollar figure depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import polars as pl

from tokenomics.anomalies.detector import DetectorParams, detect
from tokenomics.anomalies.metrics import prepare_usage

LOOKBACK_DAYS = 42  # enough history for the seasonal baseline of every child

TOKEN_TYPES: dict[str, pl.Expr] = {
    "input tokens": pl.col("input_tokens") - pl.col("cache_read_tokens") - pl.col("cache_write_tokens"),
    "cache-read tokens": pl.col("cache_read_tokens"),
    "cache-write tokens": pl.col("cache_write_tokens"),
    "output tokens": pl.col("output_tokens"),
}
TOKEN_TYPE_WEIGHTS = {"input tokens": 1.0, "cache-read tokens": 0.1, "cache-write tokens": 1.25, "output tokens": 4.0}

CONTRIBUTION_SCHEMA = {
    "feature": pl.String,
    "model": pl.String,
    "value": pl.Float64,
    "expected": pl.Float64,
    "impact": pl.Float64,
    "share": pl.Float64,
}


@dataclass(frozen=True)
class Parent:
    """The series being explained: a team, optionally narrowed to one feature and/or model."""

    team: str
    feature: str | None = None
    model: str | None = None

    @property
    def label(self) -> str:
        text = self.team
        if self.feature:
            text += f"/{self.feature}"
        if self.model:
            text += f" on {self.model}"
        return text

    def where(self) -> pl.Expr:
        cond = pl.col("team") == self.team
        if self.feature is not None:
            cond &= pl.col("feature") == self.feature
        if self.model is not None:
            cond &= pl.col("model") == self.model
        return cond


def value_column(usage: pl.DataFrame) -> tuple[pl.Expr, str]:
    """What impact is measured in: dollars when usage has cost, else tokens (the truth table)."""
    if "cost_usd" in usage.columns:
        return pl.col("cost_usd").cast(pl.Float64), "$"
    return (pl.col("input_tokens") + pl.col("output_tokens")).cast(pl.Float64), "tokens"


def contributions(
    usage_daily: pl.DataFrame,
    day: date,
    parent: Parent,
    params: DetectorParams | None = None,
) -> pl.DataFrame:
    """Children (feature, model) of `parent` on `day` with value, expected, impact and share.

    Sorted so the children that drove the parent's change come first (largest impact in the
    direction of the total).
    """
    usage = prepare_usage(usage_daily)
    amount, _ = value_column(usage)
    window = usage.filter(parent.where() & pl.col("day").is_between(day - timedelta(days=LOOKBACK_DAYS), day))
    if window.is_empty():
        return pl.DataFrame(schema=CONTRIBUTION_SCHEMA)
    daily = window.group_by("feature", "model", "day").agg(amount.sum().alias("value"))
    found = _expected_today(daily, ["feature", "model"], day, params)
    total = found["impact"].sum()
    direction = 1.0 if total >= 0 else -1.0
    return (
        found.with_columns((pl.col("impact") / total if total else pl.lit(None, pl.Float64)).alias("share"))
        .sort(pl.col("impact") * direction, descending=True)
        .select(list(CONTRIBUTION_SCHEMA))
    )


def _expected_today(daily: pl.DataFrame, keys: list[str], day: date, params: DetectorParams | None) -> pl.DataFrame:
    """Value, detector expectation (0 for a child still in cold start) and impact of each key on `day`."""
    keyed = daily.with_columns(pl.concat_str([pl.col(k) for k in keys], separator="\x1f").alias("series"))
    ids = keyed.select("series", *keys).unique("series")
    # gates off: here we want the expectation, not an alert
    params = replace(params or DetectorParams(), min_abs_impact=0.0, min_pct_impact=0.0, new_series_events=False)
    scored = detect(keyed.select("day", "series", "value"), params).filter(pl.col("day") == day)
    return (
        scored.join(ids, on="series")
        .with_columns(
            pl.col("value").cast(pl.Float64),
            pl.col("expected").fill_null(0.0),
        )
        .with_columns((pl.col("value") - pl.col("expected")).alias("impact"))
        .select(*keys, "value", "expected", "impact")
    )


def share_by(contribs: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """Contributions summed over one dimension (feature or model), sorted like `contributions`."""
    total = contribs["impact"].sum()
    direction = 1.0 if total >= 0 else -1.0
    return (
        contribs.group_by(dimension)
        .agg(pl.col("value").sum(), pl.col("expected").sum(), pl.col("impact").sum())
        .with_columns((pl.col("impact") / total if total else pl.lit(None, pl.Float64)).alias("share"))
        .sort(pl.col("impact") * direction, descending=True)
    )


def token_driver(
    usage_daily: pl.DataFrame, day: date, parent: Parent, min_share: float = 0.5
) -> tuple[str, float] | None:
    """The token type whose (price-weighted) change drove `parent` on `day`, with its actual/expected ratio."""
    usage = prepare_usage(usage_daily)
    needed = {"input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"}
    if not needed <= set(usage.columns):
        return None
    window = usage.filter(parent.where() & pl.col("day").is_between(day - timedelta(days=LOOKBACK_DAYS), day))
    if window.is_empty():
        return None
    daily = (
        window.group_by("day")
        .agg([expr.sum().cast(pl.Float64).alias(name) for name, expr in TOKEN_TYPES.items()])
        .unpivot(index="day", variable_name="token_type", value_name="value")
    )
    found = _expected_today(daily, ["token_type"], day, None).with_columns(
        (pl.col("impact") * pl.col("token_type").replace_strict(TOKEN_TYPE_WEIGHTS, return_dtype=pl.Float64)).alias(
            "weighted"
        )
    )
    total = found["weighted"].sum()
    if not total:
        return None
    top = found.sort(pl.col("weighted") * (1 if total > 0 else -1), descending=True).row(0, named=True)
    if top["weighted"] / total < min_share:
        return None
    ratio = top["value"] / top["expected"] if top["expected"] else float("inf")
    return top["token_type"], ratio


def format_amount(amount: float, unit: str, signed: bool = True) -> str:
    """'+$412', '-$3.20', '+3.2M tokens'."""
    sign = ("+" if amount >= 0 else "-") if signed else ""
    size = abs(amount)
    if unit == "$":
        return f"{sign}${size:,.0f}" if size >= 100 else f"{sign}${size:,.2f}"
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= div:
            return f"{sign}{size / div:.1f}{suffix} {unit}".rstrip()
    return f"{sign}{size:,.0f} {unit}".rstrip()


def format_ratio(value: float, expected: float) -> str:
    """'4.1x expected', or 'new' when nothing was expected."""
    if not expected or expected <= 0:
        return "new"
    return f"{value / expected:.1f}x expected"


def explain(
    parent: Parent,
    value: float,
    expected: float,
    unit: str,
    top_model: tuple[str, float] | None = None,
    driver: tuple[str, float] | None = None,
    evidence: list[str] | None = None,
) -> str:
    """'support/reply-drafter: +$412 (4.1x expected), 92% from gpt-4.1 input tokens; input tokens per request 3.8x'."""
    text = f"{parent.label}: {format_amount(value - expected, unit)} ({format_ratio(value, expected)})"
    if top_model is not None:
        model, share = top_model
        text += f", {share:.0%} from {model}"
        if driver is not None:
            text += f" {driver[0]}"
    elif driver is not None:
        text += f", mostly {driver[0]}"
    if evidence:
        text += "; " + "; ".join(evidence)
    return text
