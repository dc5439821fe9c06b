"""Group anomaly episodes into incidents: one per team and excursion, explained, with a severity.

One cost spike moves many series at once (the team's cost, tokens and requests, the feature's, the
model's, maybe its input tokens per request). Paging once per series would be spam, so episodes of
the same team whose days touch (within `join_gap_days`) form one incident. Its headline is the money
episode (cost, else tokens); ratio episodes become evidence ("input tokens per request 3.8x"); a
new series in the same team becomes "new model gpt-5". The incident id is the id of its earliest
episode, so reruns of the same days give the same id and alert dedup holds.

One cause, one incident: a provider outage hits every team on that provider the same day, each
team's traffic drops or its error rate jumps. Such simultaneous team incidents that share a
provider are merged (`_merge_shared_causes`) into one incident of team '(shared)' whose root cause
names the provider and lists, per team, what moved (error rate, traffic). Only the availability
signature merges (money or traffic down, error or retry rate up): two teams' cost spikes on the same
day are two causes (a prompt change, a model switch) and stay two incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import polars as pl

from tokenomics.anomalies.detector import NEW_SERIES
from tokenomics.anomalies.metrics import Metric, metric_by_name, prepare_usage
from tokenomics.anomalies.rootcause import (
    Parent,
    contributions,
    explain,
    format_amount,
    format_ratio,
    share_by,
    token_driver,
    value_column,
)
from tokenomics.schema import Schema

SEVERITIES = ("info", "warning", "critical")
_LEVEL_RANK = {"team": 0, "team_feature": 1, "team_model": 2}
_MONEY_RANK = {"cost": 0, "tokens": 1, "requests": 2}

INCIDENT_SCHEMA: Schema = {
    "incident_id": pl.String,
    "day": pl.Date,
    "last_day": pl.Date,
    "team": pl.String,
    "feature": pl.String,
    "model": pl.String,
    "metric": pl.String,
    "kind": pl.String,
    "severity": pl.String,
    "value": pl.Float64,
    "expected": pl.Float64,
    "impact": pl.Float64,
    "unit": pl.String,
    "score": pl.Float64,
    "explanation": pl.String,
    "root_cause": pl.List(
        pl.Struct(
            {
                "feature": pl.String,
                "model": pl.String,
                "value": pl.Float64,
                "expected": pl.Float64,
                "impact": pl.Float64,
                "share": pl.Float64,
            }
        )
    ),
    "episode_ids": pl.List(pl.String),
    "scope": pl.List(pl.Struct({"team": pl.String, "feature": pl.String, "model": pl.String})),
    "provider": pl.String,
    "teams": pl.List(pl.Struct({"team": pl.String, "impact": pl.Float64, "explanation": pl.String})),
}

SHARED_TEAM = "(shared)"
"""The team of an incident whose cause is shared by several teams (a provider outage)."""
AVAILABILITY_RATES = ("error_rate", "retry_rate")


@dataclass(frozen=True)
class IncidentParams:
    """Severity and wording knobs."""

    critical_impact_usd: float = 500.0  # a money impact at least this large is critical
    subject_share: float = 0.7  # a feature carrying this share of the impact becomes the subject
    join_gap_days: int = 1  # episodes of one team this close together are one incident
    root_cause_rows: int = 5
    shared_cause_min_teams: int = 2  # teams hit on one provider the same day before they are one incident


def summarize_episodes(detections: pl.DataFrame) -> pl.DataFrame:
    """One row per episode: first and last day, dims, kind on its first day, whether it shifted level."""
    money = _money_metric(detections)
    events = detections.filter(pl.col("is_anomaly") | ((pl.col("kind") == NEW_SERIES) & (pl.col("metric") == money)))
    return (
        events.sort("day")
        .group_by("episode_id", maintain_order=True)
        .agg(
            pl.col("day").first().alias("start_day"),
            pl.col("day").last().alias("last_day"),
            *[pl.col(c).first() for c in ("metric", "level", "team", "feature", "model", "series", "kind")],
            (pl.col("kind") == "level_shift").any().alias("shifted"),
            pl.col("value").first().cast(pl.Float64),
            pl.col("expected").first(),
            pl.col("impact").first(),
            pl.col("score").abs().max().alias("peak_score"),
        )
        .sort("team", "start_day")
    )


def _money_metric(detections: pl.DataFrame) -> str:
    metrics = set(detections["metric"].unique().to_list()) if detections.height else set()
    return next((m for m in ("cost", "tokens", "requests") if m in metrics), "cost")


def build_incidents(
    detections: pl.DataFrame,
    usage_daily: pl.DataFrame,
    params: IncidentParams | None = None,
    metrics: tuple[Metric, ...] | None = None,
) -> pl.DataFrame:
    """Incidents from `metrics.detect_usage` output, with root cause and a one-line explanation."""
    params = params or IncidentParams()
    episodes = summarize_episodes(detections)
    if episodes.is_empty():
        return pl.DataFrame(schema=INCIDENT_SCHEMA)
    usage = prepare_usage(usage_daily)
    labels = metric_by_name(metrics)
    money = _money_metric(detections)
    paging = {name for name, m in labels.items() if m.pages} | {money}
    rows = []
    for group in _group(episodes, params.join_gap_days):
        if any(e["metric"] in paging for e in group):
            rows.append(_describe(group, usage, params, labels, money, paging))
    if not rows:
        return pl.DataFrame(schema=INCIDENT_SCHEMA)
    rows = _merge_shared_causes(rows, usage, params)
    return pl.DataFrame(rows, schema=INCIDENT_SCHEMA).sort("day", "team")


def _merge_shared_causes(rows: list[dict], usage: pl.DataFrame, params: IncidentParams) -> list[dict]:
    """Team incidents that start the same day on one provider with the availability signature become one."""
    for row in rows:
        row["provider"] = _incident_provider(row, usage)
        row["teams"] = [{"team": row["team"], "impact": row["impact"], "explanation": row["explanation"]}]
    buckets: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["provider"] is not None and _availability_signature(row):
            buckets.setdefault((row["day"], row["provider"]), []).append(row)
    merged_ids: set[str] = set()
    merged = []
    for (day, provider), members in buckets.items():
        if len({m["team"] for m in members}) < params.shared_cause_min_teams:
            continue
        merged.append(_shared_incident(day, provider, members))
        merged_ids |= {m["incident_id"] for m in members}
    return [r for r in rows if r["incident_id"] not in merged_ids] + merged


def _availability_signature(row: dict) -> bool:
    """Less traffic or money, or more errors/retries: what an outage does, not what a team's change does."""
    if row["kind"] == NEW_SERIES:
        return False
    if row["metric"] in AVAILABILITY_RATES:
        return True
    return row["unit"] in ("$", "tokens", "requests") and (row["impact"] or 0.0) < 0


def _incident_provider(row: dict, usage: pl.DataFrame) -> str | None:
    """The provider the incident happened on: the one of the root-cause model carrying the largest
    impact, else the one all its scope models share, else the one carrying most of the team's requests
    in the week before. None when usage has no provider column or nothing decides."""
    if "provider" not in usage.columns:
        return None
    since = row["day"] - timedelta(days=7)
    recent = usage.filter((pl.col("day") >= since) & (pl.col("day") <= row["day"]) & (pl.col("team") == row["team"]))
    by_model = dict(recent.group_by("model").agg(pl.col("provider").mode().first()).iter_rows())
    causes = [r for r in row["root_cause"] if r["model"] in by_model]
    if causes:
        return by_model[max(causes, key=lambda r: abs(r["impact"] or 0.0))["model"]]
    scoped = {by_model.get(s["model"]) for s in row["scope"] if s["model"]}
    if len(scoped) == 1 and None not in scoped:
        return scoped.pop()
    if recent.is_empty() or "requests" not in recent.columns:
        return None
    share = recent.group_by("provider").agg(pl.col("requests").sum()).sort("requests", descending=True)
    top, total = share.row(0), share["requests"].sum()
    return top[0] if total and top[1] / total >= 0.5 else None


def _shared_incident(day, provider: str, members: list[dict]) -> dict:
    """One incident for several teams' simultaneous excursions on `provider`."""
    members = sorted(members, key=lambda m: (m["team"], m["incident_id"]))
    lead = min(members, key=lambda m: (m["unit"] != "$", -abs(m["impact"] or 0.0)))
    teams = [{"team": m["team"], "impact": m["impact"], "explanation": m["explanation"]} for m in members]
    per_team = "; ".join(m["explanation"] for m in members)
    severities = [m["severity"] for m in members]
    return {
        **lead,
        "incident_id": min(m["incident_id"] for m in members),
        "last_day": max(m["last_day"] for m in members),
        "team": SHARED_TEAM,
        "feature": None,
        "model": None,
        "severity": max(severities, key=SEVERITIES.index),
        "impact": sum((m["impact"] or 0.0) for m in members if m["unit"] == lead["unit"]),
        "explanation": f"{provider}: {len(members)} teams moved together on {day} (likely a provider outage "
        f"or degradation, not a team's change); {per_team}",
        "episode_ids": [e for m in members for e in m["episode_ids"]],
        "scope": [s for m in members for s in m["scope"]],
        "provider": provider,
        "teams": teams,
    }


def _group(episodes: pl.DataFrame, gap: int) -> list[list[dict]]:
    """Episodes of one team whose day ranges touch become one group (per-episode loop: episodes are few)."""
    groups: list[list[dict]] = []
    open_by_team: dict[str, tuple[list[dict], object]] = {}
    for ep in episodes.iter_rows(named=True):
        current = open_by_team.get(ep["team"])
        if current is not None and (ep["start_day"] - current[1]).days <= gap + 1:
            current[0].append(ep)
            open_by_team[ep["team"]] = (current[0], max(current[1], ep["last_day"]))
        else:
            group = [ep]
            groups.append(group)
            open_by_team[ep["team"]] = (group, ep["last_day"])
    return groups


def _rank(ep: dict, money: str) -> tuple:
    """Headline preference: statistical over new-series, money over other sums over ratios, team level first."""
    is_money = ep["metric"] == money
    return (
        ep["kind"] == NEW_SERIES,
        0 if is_money else (1 if ep["metric"] in _MONEY_RANK else 2),
        _LEVEL_RANK.get(ep["level"], 3),
        -abs(ep["impact"] or 0.0) if is_money else -(ep["peak_score"] or 0.0),
    )


def _describe(
    group: list[dict],
    usage: pl.DataFrame,
    params: IncidentParams,
    labels: dict[str, Metric],
    money: str,
    paging: set[str],
) -> dict:
    first = min(group, key=lambda e: (e["start_day"], _rank(e, money)))
    primary = min((e for e in group if e["metric"] in paging), key=lambda e: _rank(e, money))
    day = first["start_day"]
    team = primary["team"]
    _, unit = value_column(usage)
    evidence = _evidence(group, labels, money)
    root_cause: list[dict] = []
    parent = Parent(team, primary["feature"], primary["model"])

    if primary["kind"] != NEW_SERIES and primary["metric"] == money and money != "requests":
        subject, text, root_cause = _money_story(primary, usage, params, unit, evidence)
    elif primary["kind"] == NEW_SERIES:
        subject = parent
        text = f"{team}: new {_new_what(primary)} ({format_amount(primary['value'] or 0.0, unit, signed=False)} on its first day)"
        rest = [e for e in evidence if not e.startswith("new ")]
        text += ("; " + "; ".join(rest)) if rest else ""
    else:
        subject = parent
        head = _evidence_text(primary, labels)
        text = f"{subject.label}: " + "; ".join([head] + [e for e in evidence if e != head])

    kinds = {e["kind"] for e in group if e["metric"] in paging}
    impact = primary["impact"] or 0.0
    if kinds == {NEW_SERIES}:
        # a whole new team spending is worth one message; a team's new model or feature is info
        severity = "warning" if primary["level"] == "team" else "info"
    elif unit == "$" and primary["metric"] == money and abs(impact) >= params.critical_impact_usd:
        severity = "critical"
    else:
        severity = "warning"
    return {
        "incident_id": first["episode_id"],
        "day": day,
        "last_day": max(e["last_day"] for e in group),
        "team": team,
        "feature": subject.feature,
        "model": subject.model,
        "metric": primary["metric"],
        "kind": "level_shift" if primary["shifted"] else primary["kind"],
        "severity": severity,
        "value": primary["value"],
        "expected": primary["expected"],
        "impact": primary["impact"],
        "unit": unit
        if primary["metric"] == money
        else (labels[primary["metric"]].unit if primary["metric"] in labels else ""),
        "score": primary["peak_score"],
        "explanation": text,
        "root_cause": root_cause,
        "episode_ids": [e["episode_id"] for e in group],
        "scope": [{"team": e["team"], "feature": e["feature"], "model": e["model"]} for e in group]
        + [{"team": team, "feature": subject.feature, "model": subject.model}],
    }


def _money_story(primary: dict, usage: pl.DataFrame, params: IncidentParams, unit: str, evidence: list[str]):
    """(subject, explanation, root cause rows) of a money episode: drill down to the feature and
    model that carry the impact, and the token type that moved."""
    parent = Parent(primary["team"], primary["feature"], primary["model"])
    contribs = contributions(usage, primary["start_day"], parent)
    subject, scoped = _narrow(parent, contribs, params.subject_share)
    top_model = None
    if subject.model is None and scoped.height:
        by_model = share_by(scoped, "model").row(0, named=True)
        if by_model["share"] is not None:
            top_model = (by_model["model"], max(0.0, min(1.0, by_model["share"])))
    driver_parent = Parent(subject.team, subject.feature, subject.model or (top_model[0] if top_model else None))
    driver = token_driver(usage, primary["start_day"], driver_parent)
    actual, expected = cast(float, scoped["value"].sum()), cast(float, scoped["expected"].sum())
    text = explain(subject, actual, expected, unit, top_model, driver, evidence)
    return subject, text, contribs.head(params.root_cause_rows).to_dicts()


def _narrow(parent: Parent, contribs: pl.DataFrame, min_share: float) -> tuple[Parent, pl.DataFrame]:
    """Move the subject down to the feature that carries most of the impact, when one does."""
    if parent.feature is not None or contribs.is_empty():
        return parent, contribs
    top = share_by(contribs, "feature").row(0, named=True)
    if top["share"] is not None and top["share"] >= min_share:
        return Parent(parent.team, top["feature"], parent.model), contribs.filter(pl.col("feature") == top["feature"])
    return parent, contribs


def _new_what(ep: dict) -> str:
    if ep["level"] == "team_model":
        return f"model {ep['model']}"
    if ep["level"] == "team_feature":
        return f"feature {ep['feature']}"
    return "team spending"


def _evidence(group: list[dict], labels: dict[str, Metric], money: str) -> list[str]:
    """One phrase per ratio metric that moved (its strongest episode), then new models/features."""
    texts = []
    best: dict[str, dict] = {}
    for ep in group:
        metric = labels.get(ep["metric"])
        if metric is None or not metric.is_ratio or ep["kind"] == NEW_SERIES:
            continue
        if ep["metric"] not in best or (ep["peak_score"] or 0) > (best[ep["metric"]]["peak_score"] or 0):
            best[ep["metric"]] = ep
    texts += [_evidence_text(ep, labels) for ep in best.values()]
    texts += sorted({f"new {_new_what(ep)}" for ep in group if ep["kind"] == NEW_SERIES and ep["level"] != "team"})
    return texts


def _evidence_text(ep: dict, labels: dict[str, Metric]) -> str:
    metric = labels.get(ep["metric"])
    label = metric.label if metric else ep["metric"]
    value, expected = ep["value"] or 0.0, ep["expected"] or 0.0
    if metric is not None and metric.unit == "rate":
        # a rate's expected value can come out a hair below 0 from the baseline arithmetic: show 0%
        return f"{label} {max(expected, 0.0):.0%} -> {max(value, 0.0):.0%}"
    if metric is not None and metric.is_ratio:
        return f"{label} {value / expected:.1f}x" if expected else f"{label} new"
    unit = metric.unit if metric else ""
    return f"{label} {format_amount(value - expected, unit)} ({format_ratio(value, expected)})"
