"""The alert a channel sends: one dedup key, one day, one team, a severity and a one-line story."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date

import polars as pl

from tokenomics.finance.budgets import budget_alert_events

SEVERITIES = ("info", "warning", "critical")
SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Alert:
    """What gets delivered. `key` is the dedup key: the same key is never sent twice to a channel.

    Keys in use: 'anomaly:<incident id>' (one per excursion), 'budget:<team>:<month>:<pct>'
    (one per budget threshold crossed), 'pipeline:<run id>' (one per failed run).
    `facts` holds plain JSON values shown as a small table (value, expected, impact, ...).
    """

    key: str
    day: date
    team: str
    severity: str
    title: str
    text: str
    kind: str = "anomaly"
    facts: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"alert {self.key}: severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_json(self) -> dict:
        data = asdict(self)
        data["day"] = self.day.isoformat()
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, default=str)

    @classmethod
    def from_json(cls, data: dict) -> Alert:
        return cls(**{**data, "day": date.fromisoformat(data["day"])})


def _fmt(value, unit: str) -> str | None:
    if value is None:
        return None
    if unit == "$":
        return f"${value:,.2f}"
    if unit == "rate":
        return f"{value:.1%}"
    return f"{value:,.1f}"


def alerts_from_incidents(incidents: pl.DataFrame) -> list[Alert]:
    """One alert per anomaly incident (tokenomics.anomalies.incidents.build_incidents output)."""
    alerts = []
    for row in incidents.iter_rows(named=True):
        subject = (
            row["team"]
            + (f"/{row['feature']}" if row["feature"] else "")
            + (f" on {row['model']}" if row["model"] else "")
        )
        if row.get("teams") and len(row["teams"]) > 1 and row.get("provider"):  # one cause, several teams
            subject = f"{row['provider']}, {len(row['teams'])} teams"
        kind = (row["kind"] or "anomaly").replace("_", " ")
        unit = row.get("unit") or ""
        facts = {
            "metric": row["metric"],
            "kind": row["kind"],
            "actual": _fmt(row["value"], unit),
            "expected": _fmt(row["expected"], unit),
            "impact": _fmt(row["impact"], unit),
            "score": round(row["score"], 1) if row["score"] is not None else None,
            "first day": row["day"].isoformat(),
        }
        alerts.append(
            Alert(
                key=f"anomaly:{row['incident_id']}",
                day=row["day"],
                team=row["team"],
                severity=row["severity"],
                title=f"{row['metric'].replace('_', ' ').capitalize()} {kind}: {subject}",
                text=row["explanation"],
                kind="anomaly",
                facts={k: v for k, v in facts.items() if v is not None},
            )
        )
    return alerts


def alerts_from_budget_status(status: pl.DataFrame) -> list[Alert]:
    """One alert per budget scope, month and threshold crossed in these budget_status rows.

    Keys are budget_alert_events' dedup keys, so a threshold crossed on several days (or re-run) is one
    alert, dated the first day it was crossed.
    """
    if status.height == 0:
        return []
    events = budget_alert_events(status).sort("as_of").unique("dedup_key", keep="first", maintain_order=True)
    return [
        Alert(
            key=e["dedup_key"],
            day=e["as_of"],
            team=e["team"],
            severity=e["severity"],
            title=e["title"],
            text=e["message"],
            kind="budget",
            facts={"month": e["month"], "threshold": f"{e['threshold']}%"},
        )
        for e in events.iter_rows(named=True)
    ]


def pipeline_failure_alert(run_id: str, job: str, day: date, message: str) -> Alert:
    """The alert a run-failure sensor sends (team 'platform', critical, one per run)."""
    return Alert(
        key=f"pipeline:{run_id}",
        day=day,
        team="platform",
        severity="critical",
        title=f"Pipeline run failed: {job}",
        text=message.splitlines()[0][:500] if message else "run failed",
        kind="pipeline",
        facts={"run id": run_id, "job": job},
    )


def stale_tables_alert(tables: list[str], day: date) -> Alert:
    """The alert of published tables past their freshness deadline (team 'platform', one a day)."""
    names = ", ".join(sorted(tables))
    return Alert(
        key=f"freshness:{day}:{names}",
        day=day,
        team="platform",
        severity="critical",
        title=f"Published tables are late: {names}",
        text=f"{len(tables)} published table(s) missed their freshness deadline: did the nightly run start?",
        kind="pipeline",
        facts={"tables": names},
    )
