"""The report's charts: Altair (Vega-Lite) specs rendered to static SVG by vl-convert, offline.

vl-convert runs Vega in an embedded engine, so no browser, CDN or JavaScript is needed to draw and
none is shipped in the page: a chart is a plain inline <svg>, readable offline and printable.
Days are ordinal ISO strings, not temporal values: a temporal axis would be drawn in the renderer's
local time zone, and every day here is a UTC date.
"""

from __future__ import annotations

import itertools
import re
from typing import cast

import altair as alt
import polars as pl

_CHART_IDS = itertools.count(1)
WIDTH = 560
MONEY_AXIS = "$,.2f"
CAUSE_COLUMNS = {
    "outside_gateway_usd": "outside gateway",
    "price_difference_usd": "price difference",
    "cache_miscount_usd": "cache miscount",
    "unpriced_usd": "unpriced model",
    "other_charges_usd": "other charges",
}
"""reconciliation_daily's gap components, as the legend names them."""


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render one chart to an SVG string; loading any URL is refused (data is always inline).

    Element ids (clip paths) are made unique per chart: several SVGs inlined in one page share one id
    space, and a repeated id would clip one chart with another's rectangle.
    """
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_dict(), allowed_base_urls=[])
    scope = f"c{next(_CHART_IDS)}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{scope}{m[1]}"', svg)
    return re.sub(r"(url\(#|href=\"#)([^)\"]+)", lambda m: f"{m[1]}{scope}{m[2]}", svg)


def to_png(chart: alt.TopLevelMixin, scale: float = 1.0) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_dict(), scale=scale, allowed_base_urls=[])


def _rows(frame: pl.DataFrame) -> list[dict]:
    """Altair's inline data: dates as ISO strings, decimals as floats (charts only; tables keep exact money)."""
    out = frame.with_columns(
        [pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t in (pl.Date, pl.Datetime)]
        + [pl.col(c).cast(pl.Float64) for c, t in frame.schema.items() if isinstance(t, pl.Decimal)]
    )
    return out.to_dicts()


def _day_axis(title: str = "day (UTC)") -> alt.X:
    return alt.X("day:O", title=title, axis=alt.Axis(labelAngle=-45, labelExpr="slice(datum.value, 5)"))


def daily_cost_by_team(frame: pl.DataFrame) -> alt.Chart:
    """Columns day, team, cost_usd: one stacked bar per day."""
    return (
        alt.Chart(alt.Data(values=_rows(frame)), width=WIDTH, height=260, title="Daily cost by team (gateway estimate)")
        .mark_bar()
        .encode(
            x=_day_axis(),
            y=alt.Y("sum(cost_usd):Q", title="cost (USD)", axis=alt.Axis(format="$,.2f")),
            color=alt.Color("team:N", legend=alt.Legend(title="team")),
            tooltip=["day:O", "team:N", alt.Tooltip("sum(cost_usd):Q", format=MONEY_AXIS)],
        )
    )


def bill_vs_gateway(frame: pl.DataFrame) -> alt.Chart:
    """Columns provider, billed_usd, gateway_usd: the two amounts side by side per provider."""
    long = (
        frame.select("provider", "billed_usd", "gateway_usd")
        .unpivot(index="provider", variable_name="amount", value_name="usd")
        .with_columns(pl.col("amount").replace({"billed_usd": "billed", "gateway_usd": "gateway estimate"}))
    )
    return (
        alt.Chart(
            alt.Data(values=_rows(long)),
            width=WIDTH,
            height=alt.Step(14),
            title="Bill vs gateway estimate per provider",
        )
        .mark_bar()
        .encode(
            y=alt.Y("provider:N", title=None),
            yOffset=alt.YOffset("amount:N"),
            x=alt.X("usd:Q", title="USD this month", axis=alt.Axis(format="$,.2f")),
            color=alt.Color(
                "amount:N",
                scale=alt.Scale(range=["#4c78a8", "#f58518"]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=["provider:N", "amount:N", alt.Tooltip("usd:Q", format=MONEY_AXIS)],
        )
    )


def gap_by_cause(frame: pl.DataFrame) -> alt.Chart:
    """Columns provider plus CAUSE_COLUMNS: the gap (billed - gateway) split into its causes."""
    long = (
        frame.select("provider", *CAUSE_COLUMNS)
        .unpivot(index="provider", variable_name="cause", value_name="usd")
        .with_columns(pl.col("cause").replace(CAUSE_COLUMNS))
        .filter(pl.col("usd") != 0)
    )
    return (
        alt.Chart(
            alt.Data(values=_rows(long)),
            width=WIDTH,
            height=alt.Step(22),
            title="What the gap is made of (billed − gateway)",
        )
        .mark_bar()
        .encode(
            y=alt.Y("provider:N", title=None),
            x=alt.X(
                "sum(usd):Q",
                title="USD this month (positive: billed more than the gateway saw)",
                axis=alt.Axis(format="$,.2f"),
            ),
            color=alt.Color("cause:N", legend=alt.Legend(title="cause", orient="bottom")),
            tooltip=["provider:N", "cause:N", alt.Tooltip("sum(usd):Q", format=MONEY_AXIS)],
        )
    )


def incident_series(frame: pl.DataFrame, title: str, unit: str) -> alt.LayerChart | alt.FacetChart:
    """Columns day, value, expected, lower, upper, flagged: the series, its expected band, flagged days."""
    fmt = MONEY_AXIS if unit == "$" else ",.3~f"
    # a band that widens on sparse history would flatten the series: the y axis follows the values
    top = (
        max(float(cast(float, frame["value"].max() or 0)), float(cast(float, frame["expected"].max() or 0))) * 1.25
        or 1.0
    )
    y_scale = alt.Scale(domain=[0, top], clamp=True)
    base = alt.Chart(alt.Data(values=_rows(frame)), width=WIDTH, height=200, title=title)
    band = base.mark_area(opacity=0.25, color="#4c78a8", clip=True).encode(
        x=_day_axis(), y=alt.Y("lower:Q", title=unit or "value", axis=alt.Axis(format=fmt), scale=y_scale), y2="upper:Q"
    )
    expected = base.mark_line(strokeDash=[4, 3], color="#4c78a8").encode(x=_day_axis(), y="expected:Q")
    value = base.mark_line(color="#222", point=alt.OverlayMarkDef(color="#222", size=18)).encode(
        x=_day_axis(),
        y="value:Q",
        tooltip=["day:O", alt.Tooltip("value:Q", format=fmt), alt.Tooltip("expected:Q", format=fmt)],
    )
    flagged = (
        base.transform_filter("datum.flagged")
        .mark_point(color="#d62728", size=120, filled=True)
        .encode(x=_day_axis(), y="value:Q")
    )
    return alt.layer(band, expected, value, flagged)


def budget_burn(frame: pl.DataFrame) -> alt.FacetChart:
    """Columns budget, day, spent_usd, forecast_usd, budget_usd: month-to-date spend against forecast and budget."""
    long = (
        frame.select("budget", "day", "spent_usd", "forecast_usd", "budget_usd")
        .unpivot(index=["budget", "day"], variable_name="line", value_name="usd")
        .with_columns(
            pl.col("line").replace(
                {"spent_usd": "spent to date", "forecast_usd": "month-end forecast", "budget_usd": "budget"}
            )
        )
    )
    lines = (
        alt.Chart(width=250, height=140)
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            x=alt.X("day:O", title="as of", axis=alt.Axis(labelAngle=-45, labelExpr="slice(datum.value, 5)")),
            y=alt.Y("usd:Q", title="USD", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "line:N",
                scale=alt.Scale(
                    domain=["spent to date", "month-end forecast", "budget"], range=["#4c78a8", "#f58518", "#d62728"]
                ),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            strokeDash=alt.StrokeDash(
                "line:N",
                scale=alt.Scale(
                    domain=["spent to date", "month-end forecast", "budget"], range=[[1, 0], [5, 3], [2, 2]]
                ),
                legend=None,
            ),
            tooltip=["budget:N", "day:O", "line:N", alt.Tooltip("usd:Q", format=MONEY_AXIS)],
        )
    )
    return alt.FacetChart(
        data=alt.Data(values=_rows(long)),
        spec=lines,
        facet=alt.Facet("budget:N", title=None),
        columns=2,
        title="Budget burn vs forecast",
    ).resolve_scale(y="independent")


def savings_ranked(frame: pl.DataFrame) -> alt.Chart:
    """Columns label, opportunity, monthly_savings_usd: largest first."""
    return (
        alt.Chart(
            alt.Data(values=_rows(frame)),
            width=WIDTH - 160,
            height=alt.Step(18),
            title="Savings opportunities (USD per month)",
        )
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("monthly_savings_usd:Q", title="estimated monthly savings", axis=alt.Axis(format="$,.2f")),
            color=alt.Color("opportunity:N", legend=alt.Legend(title="change", orient="bottom")),
            tooltip=["label:N", "opportunity:N", alt.Tooltip("monthly_savings_usd:Q", format=MONEY_AXIS)],
        )
    )


def self_host_vs_api(frame: pl.DataFrame) -> alt.Chart:
    """Columns open_model, utilization_pct, api_monthly_usd, monthly_self_host_usd."""
    long = (
        frame.select("open_model", "utilization_pct", "api_monthly_usd", "monthly_self_host_usd")
        .unpivot(index=["open_model", "utilization_pct"], variable_name="cost", value_name="usd")
        .with_columns(
            pl.col("cost").replace({"api_monthly_usd": "API cost today", "monthly_self_host_usd": "self-hosted GPUs"})
        )
    )
    return (
        alt.Chart(
            alt.Data(values=_rows(long)),
            width=WIDTH,
            height=220,
            title="Self-hosting: API cost vs GPU cost per utilisation",
        )
        .mark_line(point=True)
        .encode(
            x=alt.X("utilization_pct:Q", title="assumed GPU utilisation (%)"),
            y=alt.Y("usd:Q", title="USD per month", scale=alt.Scale(type="symlog"), axis=alt.Axis(format="$,.0f")),
            color=alt.Color("open_model:N", legend=alt.Legend(title="open model", orient="bottom")),
            strokeDash=alt.StrokeDash("cost:N", legend=alt.Legend(title=None, orient="bottom")),
            tooltip=["open_model:N", "cost:N", "utilization_pct:Q", alt.Tooltip("usd:Q", format=MONEY_AXIS)],
        )
    )
