"""The offline HTML report: one self-contained file, charts as inline SVG beside money-formatted tables.

Nothing in the page loads anything: no script, no stylesheet link, no font or image URL. Each
section reads the published warehouse read-only (the file BI tools read), so the report shows exactly
what was published. A section whose table is missing or empty says so instead of drawing a chart.
"""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from tokenomics.report import charts

MAX_INCIDENTS = 4
MAX_SAVINGS = 12

CSS = """
body { font: 14px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #222; margin: 0 auto;
       max-width: 1280px; padding: 16px 24px; }
h1 { font-size: 22px; margin: 4px 0; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
p.lead { color: #555; margin: 0 0 12px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.kpi b { display: block; font-size: 18px; }
.row { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
figure.chart { margin: 0; flex: 0 1 auto; max-width: 100%; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 0 0 8px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.empty { color: #777; font-style: italic; }
.note { color: #555; font-size: 12px; max-width: 560px; }
footer { color: #777; font-size: 12px; margin-top: 32px; }
@media print { body { max-width: none; padding: 0; } h2 { break-after: avoid; } .row, figure.chart, table { break-inside: avoid; } }
"""


def money(value) -> str:
    """$1,234.56; amounts under a cent keep 4 decimals so they do not read as zero."""
    if value is None:
        return ""
    v = Decimal(str(value))
    sign = "−" if v < 0 else ""
    v = abs(v)
    return f"{sign}${v:,.2f}" if v >= Decimal("0.01") or v == 0 else f"{sign}${v:,.4f}"


def percent(value) -> str:
    return "" if value is None else f"{float(value):.1%}"


def integer(value) -> str:
    return "" if value is None else f"{int(value):,}"


@dataclass
class Section:
    title: str
    lead: str
    charts: list[str] = field(default_factory=list)  # inline SVG strings
    tables: list[str] = field(default_factory=list)  # HTML tables
    empty: str = ""


def table_html(frame: pl.DataFrame, formats: dict[str, Callable[[Any], str]] | None = None, caption: str = "") -> str:
    """A plain HTML table; `formats` maps a column to how its cells are written (money, percent, ...)."""
    formats = formats or {}
    if frame.height == 0:
        return '<p class="empty">no rows</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.iter_rows(named=True):
        cells = []
        for c, v in row.items():
            fmt = formats.get(c)
            text = fmt(v) if fmt else ("" if v is None else str(v))
            cls = ' class="num"' if fmt else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Warehouse:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}

    def frame(self, sql: str, params: list | None = None) -> pl.DataFrame:
        return self.con.sql(sql, params=params or []).pl()

    def has(self, *tables: str) -> bool:
        return all(t in self.tables for t in tables)


def _published_rows(
    section: Section, w: _Warehouse, table: str, sql: str, params: list, none_found: str
) -> pl.DataFrame | None:
    """The rows a section draws, or None once the section says why it has none (table not published, no rows)."""
    if not w.has(table):
        section.empty = f"{table} is not published"
        return None
    frame = w.frame(sql, params)
    if frame.height == 0:
        section.empty = none_found
        return None
    return frame


def _month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def _cost_section(w: _Warehouse, month: str) -> Section:
    daily = w.frame(
        "SELECT day, team, sum(cost_usd) AS cost_usd FROM usage_daily WHERE strftime(day, '%Y-%m') = ? "
        "GROUP BY ALL ORDER BY day, team",
        [month],
    )
    by_team = w.frame(
        "SELECT team, sum(cost_usd) AS cost_usd, sum(requests) AS requests, "
        "sum(cost_usd) / nullif(sum(sum(cost_usd)) OVER (), 0) AS share "
        "FROM usage_daily WHERE strftime(day, '%Y-%m') = ? GROUP BY team ORDER BY cost_usd DESC",
        [month],
    )
    section = Section(
        "Spend over time", "What the gateways' traffic cost per day, by team, at catalog and override prices."
    )
    if daily.height == 0:
        section.empty = "no gateway usage published for this month"
        return section
    section.charts.append(charts.to_svg(charts.daily_cost_by_team(daily)))
    section.tables.append(table_html(by_team, {"cost_usd": money, "requests": integer, "share": percent}))
    return section


RECONCILIATION = """
    WITH m AS (SELECT * FROM reconciliation_daily WHERE strftime(day, '%Y-%m') = ?),
    causes AS (
        SELECT provider, likely_cause, abs(sum(gap_usd)) AS weight FROM m WHERE likely_cause <> 'matched' GROUP BY ALL
    )
    SELECT provider, sum(billed_cost_usd) AS billed_usd, sum(gateway_cost_usd) AS gateway_usd, sum(gap_usd) AS gap_usd,
           sum(gateway_cost_usd) / nullif(sum(billed_cost_usd), 0) AS capture_rate,
           coalesce((SELECT arg_max(c.likely_cause, c.weight) FROM causes c WHERE c.provider = m.provider), 'matched') AS main_cause,
           sum(outside_gateway_usd) AS outside_gateway_usd, sum(price_difference_usd) AS price_difference_usd,
           sum(cache_miscount_usd) AS cache_miscount_usd, sum(unpriced_usd) AS unpriced_usd,
           sum(other_charges_usd) AS other_charges_usd
    FROM m GROUP BY provider ORDER BY billed_usd DESC"""


def _bill_section(w: _Warehouse, month: str) -> Section:
    section = Section(
        "Does the bill match?",
        "Each provider's bill (effective cost, after discounts and credits) beside what the gateways saw at our "
        "prices; the gap is split into its causes at the bill's own per-token prices.",
    )
    frame = _published_rows(
        section, w, "reconciliation_daily", RECONCILIATION, [month], "no bills or gateway usage this month"
    )
    if frame is None:
        return section
    section.charts.append(charts.to_svg(charts.bill_vs_gateway(frame)))
    if frame.select(list(charts.CAUSE_COLUMNS)).to_numpy().any():
        section.charts.append(charts.to_svg(charts.gap_by_cause(frame)))
    section.tables.append(
        table_html(
            frame.select("provider", "billed_usd", "gateway_usd", "gap_usd", "capture_rate", "main_cause"),
            {"billed_usd": money, "gateway_usd": money, "gap_usd": money, "capture_rate": percent},
        )
    )
    return section


def _incident_frame(w: _Warehouse, incident: dict, end: date) -> tuple[pl.DataFrame, str]:
    """The incident's series (team, narrowed to its feature or model), rescored by the same detector."""
    from tokenomics.anomalies.detector import detect
    from tokenomics.anomalies.metrics import default_metrics

    metrics = {m.name: m for m in default_metrics()}
    metric = metrics.get(incident["metric"]) or metrics["cost"]
    cols = sorted(metric.columns & set(w.frame("SELECT * FROM usage_daily LIMIT 0").columns))
    if not set(metric.numerator) <= set(cols) or not set(metric.denominator) <= set(cols):
        metric = metrics["cost"]
        cols = ["cost_usd"]
    where, params = ["team = ?", "day < ?"], [incident["team"], end]
    if incident.get("feature"):
        where.append("feature = ?")
        params.append(incident["feature"])
    if incident.get("model"):
        where.append("coalesce(model_id, model) = ?")
        params.append(incident["model"])
    sums = ", ".join(f'sum("{c}")::DOUBLE AS "{c}"' for c in cols)
    daily = w.frame(
        f"SELECT day, {sums} FROM usage_daily WHERE {' AND '.join(where)} GROUP BY day ORDER BY day", params
    )
    num = pl.sum_horizontal([pl.col(c) for c in metric.numerator])
    value = num / pl.sum_horizontal([pl.col(c) for c in metric.denominator]) if metric.is_ratio else num
    series = daily.select("day", pl.lit("incident").alias("series"), value.cast(pl.Float64).alias("value"))
    scored = detect(series, metric.params) if series.height else series
    first, last = incident["day"], incident["last_day"] or incident["day"]
    out = (
        scored.select(
            "day",
            "value",
            "expected",
            "lower",
            "upper",
            (pl.col("is_anomaly").fill_null(False) | pl.col("day").is_between(first, last)).alias("flagged"),
        )
        if series.height
        else pl.DataFrame()
    )
    return out, metric.unit


def _incident_section(w: _Warehouse, month: str) -> Section:
    section = Section(
        "Anomaly incidents",
        "Each incident of the month: the series it was found in, the detector's expected band (shaded, "
        "expected value dashed) and the flagged days in red.",
    )
    if not w.has("incidents", "usage_daily"):
        section.empty = "incidents are not published"
        return section
    first, nxt = _month_bounds(month)
    incidents = w.frame(
        "SELECT incident_id, day, last_day, team, feature, model, metric, kind, severity, impact, unit, explanation "
        "FROM incidents WHERE day < ? AND coalesce(last_day, day) >= ? ORDER BY abs(impact) DESC NULLS LAST, day LIMIT ?",
        [nxt, first, MAX_INCIDENTS],
    )
    if incidents.height == 0:
        section.empty = "no incidents this month"
        return section
    for inc in incidents.iter_rows(named=True):
        series, unit = _incident_frame(w, inc, nxt)
        if series.height == 0:
            continue
        scope = "/".join(x for x in (inc["team"], inc["feature"], inc["model"]) if x)
        title = f"{scope}: {inc['metric']} ({inc['kind']}, {inc['day']})"
        section.charts.append(charts.to_svg(charts.incident_series(series, title, unit)))
    section.tables.append(
        table_html(
            incidents.select("day", "last_day", "team", "severity", "kind", "impact", "explanation"),
            {"impact": lambda v: money(round(v, 2)) if v is not None else ""},
        )
    )
    return section


def _budget_section(w: _Warehouse, month: str) -> Section:
    section = Section(
        "Budgets",
        "Month-to-date spend (bill-true: allocation totals, residual included) against the month-end forecast "
        "and the budget, per day of the month.",
    )
    frame = _published_rows(
        section, w, "budget_status",
        "SELECT team || coalesce('/' || feature, '') AS budget, as_of AS day, mtd_spend_usd AS spent_usd, "
        "forecast_usd, budget_usd, pct_used, status FROM budget_status "
        "WHERE left(CAST(month AS VARCHAR), 7) = ? ORDER BY budget, day",
        [month], "no budgets configured, or none this month",
    )  # fmt: skip
    if frame is None:
        return section
    section.charts.append(charts.to_svg(charts.budget_burn(frame)))
    latest = frame.filter(pl.col("day") == pl.col("day").max()).sort("pct_used", descending=True)
    section.tables.append(
        table_html(
            latest.select("budget", "budget_usd", "spent_usd", "forecast_usd", "pct_used", "status"),
            {"budget_usd": money, "spent_usd": money, "forecast_usd": money, "pct_used": lambda v: f"{float(v):.0f}%"},
            caption=f"as of {latest['day'][0]}",
        )
    )
    return section


def _savings_section(w: _Warehouse, month: str) -> Section:
    section = Section(
        "Savings opportunities",
        "What a change would save per month, ranked in dollars (trailing 30 days). A smaller model is always "
        "low confidence: evaluate quality first.",
    )
    _, nxt = _month_bounds(month)
    frame = _published_rows(
        section, w, "savings_opportunities",
        "SELECT team || '/' || feature || ': ' || model || coalesce(' → ' || target_model, '') AS label, opportunity, "
        "team, feature, model, target_model, current_monthly_usd, monthly_savings_usd, confidence "
        "FROM savings_opportunities WHERE as_of = (SELECT max(as_of) FROM savings_opportunities WHERE as_of < ?) "
        "AND monthly_savings_usd > 0 ORDER BY monthly_savings_usd DESC LIMIT ?",
        [nxt, MAX_SAVINGS], "no savings opportunities found",
    )  # fmt: skip
    if frame is None:
        return section
    section.charts.append(charts.to_svg(charts.savings_ranked(frame)))
    section.tables.append(
        table_html(
            frame.select(
                "opportunity",
                "team",
                "feature",
                "model",
                "target_model",
                "current_monthly_usd",
                "monthly_savings_usd",
                "confidence",
            ),
            {"current_monthly_usd": money, "monthly_savings_usd": money},
        )
    )
    return section


def _tco_section(w: _Warehouse, month: str) -> Section:
    section = Section(
        "Would our own GPUs be cheaper?",
        "The API traffic an open model could take over, its API cost today, and what self-hosting it would cost "
        "per month at each assumed utilisation (log scale).",
    )
    _, nxt = _month_bounds(month)
    frame = _published_rows(
        section, w, "self_host_tco",
        "SELECT open_model, gpu, utilization_pct, gpus_needed, api_monthly_usd, monthly_self_host_usd, monthly_savings_usd, verdict "
        "FROM self_host_tco WHERE as_of = (SELECT max(as_of) FROM self_host_tco WHERE as_of < ?) ORDER BY open_model, utilization_pct",
        [nxt], "no candidate traffic for self-hosting",
    )  # fmt: skip
    if frame is None:
        return section
    section.charts.append(charts.to_svg(charts.self_host_vs_api(frame)))
    section.tables.append(
        table_html(
            frame.select(
                "open_model",
                "gpu",
                "utilization_pct",
                "gpus_needed",
                "api_monthly_usd",
                "monthly_self_host_usd",
                "monthly_savings_usd",
            ),
            {
                "utilization_pct": lambda v: f"{float(v):.0f}%",
                "gpus_needed": integer,
                "api_monthly_usd": money,
                "monthly_self_host_usd": money,
                "monthly_savings_usd": money,
            },
        )
    )
    verdicts = frame.group_by("open_model", maintain_order=True).agg(pl.col("verdict").first())["verdict"].to_list()
    section.tables.extend(f'<p class="note">{html.escape(v)}</p>' for v in verdicts if v)
    return section


SECTIONS = (_cost_section, _bill_section, _incident_section, _budget_section, _savings_section, _tco_section)


def latest_month(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        month = con.execute("SELECT strftime(max(day), '%Y-%m') FROM usage_daily").fetchall()[0][0]
    finally:
        con.close()
    if month is None:
        raise ValueError(f"{warehouse} has no usage_daily rows yet: run the pipeline first")
    return month


def build_sections(warehouse: Path, month: str) -> tuple[list[Section], dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        w = _Warehouse(con)
        if "usage_daily" not in w.tables:
            raise ValueError(f"{warehouse} has no usage_daily table: run the pipeline first")
        kpis = w.frame(
            "SELECT sum(cost_usd) AS cost, sum(requests) AS requests, count(DISTINCT day) AS days, "
            "coalesce(sum(cost_usd) FILTER (WHERE team = 'unattributed'), 0) / nullif(sum(cost_usd), 0) AS unattributed "
            "FROM usage_daily WHERE strftime(day, '%Y-%m') = ?",
            [month],
        ).row(0, named=True)
        if w.has("reconciliation_daily"):
            kpis["billed"] = con.execute(
                "SELECT sum(billed_cost_usd) FROM reconciliation_daily WHERE strftime(day, '%Y-%m') = ?", [month]
            ).fetchall()[0][0]
        return [section(w, month) for section in SECTIONS], kpis
    finally:
        con.close()


def render_report(warehouse: Path, month: str | None = None) -> str:
    """The whole report for `month` (YYYY-MM; default: the latest month with usage) as one HTML string."""
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}; run `tokenomics run` first")
    if month is not None:
        try:
            _month_bounds(month)
        except ValueError:
            raise ValueError(f"--month '{month}' is not a month; use YYYY-MM, e.g. 2026-03") from None
    month = month or latest_month(warehouse)
    sections, kpis = build_sections(warehouse, month)
    cards = [
        ("gateway cost", money(kpis["cost"] or 0)),
        ("requests", integer(kpis["requests"] or 0)),
        ("days published", str(kpis["days"] or 0)),
        ("unattributed", percent(kpis["unattributed"] or 0)),
    ]
    if kpis.get("billed") is not None:
        cards.insert(1, ("billed by providers", money(kpis["billed"])))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Tokenomics report {html.escape(month)}</title><style>{CSS}</style></head><body>",
        f"<h1>Tokenomics report: {html.escape(month)}</h1>",
        f'<p class="lead">Where the LLM tokens and dollars went, from {html.escape(warehouse.name)}. All amounts in USD.</p>',
        '<div class="kpis">'
        + "".join(f'<div class="kpi">{html.escape(k)}<b>{html.escape(v)}</b></div>' for k, v in cards)
        + "</div>",
    ]
    for s in sections:
        parts.append(f'<section><h2>{html.escape(s.title)}</h2><p class="lead">{html.escape(s.lead)}</p>')
        if s.empty:
            parts.append(f'<p class="empty">{html.escape(s.empty)}</p>')
        else:
            figures = "".join(f'<figure class="chart">{svg}</figure>' for svg in s.charts)
            parts.append(f'<div class="row">{figures}<div class="tables">{"".join(s.tables)}</div></div>')
        parts.append("</section>")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(
        f"<footer>Generated by tokenomics report at {stamp}. Works offline; print it as it is.</footer></body></html>"
    )
    return "\n".join(parts)


def write_report(warehouse: Path, out: Path, month: str | None = None) -> Path:
    """Write the report atomically (a reader never sees half a file)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(warehouse, month)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out
