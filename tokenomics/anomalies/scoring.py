"""Score alerts against injected anomalies: event recall, precision per alert, delay, false-alert rate.

Definitions (reference/anomaly_pricing_tco.md 1.5, made precise):
* An alert *matches* an injected event when the team is the same and one of the alert's scope
  entries (feature, model; null = the whole team) is compatible with the event's feature and model.
* An event is *detected* when a matching alert starts within [start, start + detect_days], or was
  already open on the start day. Delay = alert start - event start (0 = alerted on the first day).
* An alert is *true* when it matches an event and starts within [start - 1, end + after_days]
  (the day an excursion ends can legitimately move a series back).
* False alerts per 100 series-weeks = false alerts / (monitored series x days / 7) x 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from statistics import median

import polars as pl

SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Score:
    events: int
    detected: int
    alerts: int
    true_alerts: int
    median_delay_days: float | None
    false_alerts: int
    series_weeks: float
    by_kind: dict[str, tuple[int, int]]  # kind -> (detected, events)

    @property
    def recall(self) -> float:
        return self.detected / self.events if self.events else 1.0

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else 1.0

    @property
    def false_per_100_series_weeks(self) -> float:
        return 100.0 * self.false_alerts / self.series_weeks if self.series_weeks else 0.0

    def as_dict(self) -> dict:
        return {
            "events": self.events,
            "detected": self.detected,
            "recall": round(self.recall, 3),
            "alerts": self.alerts,
            "true_alerts": self.true_alerts,
            "precision": round(self.precision, 3),
            "median_delay_days": self.median_delay_days,
            "false_alerts": self.false_alerts,
            "false_per_100_series_weeks": round(self.false_per_100_series_weeks, 3),
        }


def _compatible(scope_feature, scope_model, event: dict, model_providers: dict[str, str]) -> bool:
    if not (scope_feature is None or event["feature"] is None or scope_feature == event["feature"]):
        return False
    if not (scope_model is None or event["model"] is None or scope_model == event["model"]):
        return False
    provider = event.get("provider")
    if provider and scope_model is not None and scope_model in model_providers:
        return model_providers[scope_model] == provider
    return True


def _matches(alert: dict, event: dict, model_providers: dict[str, str] | None = None) -> bool:
    """Same team (an event without a team, e.g. a provider outage, touches every team) and scope."""
    if event["team"] is not None and alert["team"] != event["team"]:
        return False
    scope = alert.get("scope") or [{"feature": alert.get("feature"), "model": alert.get("model")}]
    return any(_compatible(s["feature"], s["model"], event, model_providers or {}) for s in scope)


def score_alerts(
    alerts: pl.DataFrame,
    injected: pl.DataFrame,
    series_count: int,
    days: int,
    min_severity: str = "warning",
    detect_days: int = 2,
    after_days: int = 2,
    model_providers: dict[str, str] | None = None,
) -> Score:
    """Score `alerts` (incidents: day, last_day, team, feature, model, severity, scope) against `injected`.

    `injected` has start_day, end_day, team, feature, model, kind and optionally provider (an event
    with a provider and no team, like an outage, matches alerts on that provider's models).

    Per-event/per-alert Python loops: both tables hold tens to hundreds of rows.
    """
    if "severity" in alerts.columns:
        alerts = alerts.filter(
            pl.col("severity").replace_strict(SEVERITY_ORDER, default=0) >= SEVERITY_ORDER[min_severity]
        )
    alert_rows = alerts.to_dicts()
    events = injected.with_columns(
        *[
            pl.col(c).cast(pl.String) if c in injected.columns else pl.lit(None, pl.String).alias(c)
            for c in ("team", "feature", "model", "provider")
        ]
    ).to_dicts()

    delays: list[int] = []
    by_kind: dict[str, tuple[int, int]] = {}
    for e in events:
        start = e["start_day"]
        delay = None
        for a in alert_rows:
            if not _matches(a, e, model_providers):
                continue
            last = a.get("last_day") or a["day"]
            if start <= a["day"] <= start + timedelta(days=detect_days):
                d = (a["day"] - start).days
            elif a["day"] < start <= last:
                d = 0
            else:
                continue
            delay = d if delay is None else min(delay, d)
        hit, total = by_kind.get(e["kind"], (0, 0))
        by_kind[e["kind"]] = (hit + (delay is not None), total + 1)
        if delay is not None:
            delays.append(delay)

    true_alerts = 0
    for a in alert_rows:
        if any(
            _matches(a, e, model_providers)
            and e["start_day"] - timedelta(days=1) <= a["day"] <= e["end_day"] + timedelta(days=after_days)
            for e in events
        ):
            true_alerts += 1
    return Score(
        events=len(events),
        detected=len(delays),
        alerts=len(alert_rows),
        true_alerts=true_alerts,
        median_delay_days=float(median(delays)) if delays else None,
        false_alerts=len(alert_rows) - true_alerts,
        series_weeks=series_count * days / 7.0,
        by_kind=by_kind,
    )


def evaluate(
    usage_daily: pl.DataFrame, injected: pl.DataFrame, metrics=None, min_severity: str = "warning"
) -> tuple[Score, pl.DataFrame]:
    """Detect on `usage_daily`, group into incidents, score against `injected`; (score, incidents)."""
    from tokenomics.anomalies.incidents import build_incidents
    from tokenomics.anomalies.metrics import detect_usage, prepare_usage

    usage = prepare_usage(usage_daily)
    detections = detect_usage(usage, metrics)
    incidents = build_incidents(detections, usage, metrics=metrics)
    providers = (
        dict(usage.select("model", "provider").unique("model").iter_rows()) if "provider" in usage.columns else {}
    )
    score = score_alerts(
        incidents,
        injected,
        series_count=detections["series"].n_unique(),
        days=usage["day"].n_unique(),
        min_severity=min_severity,
        model_providers=providers,
    )
    return score, incidents
