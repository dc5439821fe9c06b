"""One call for the `anomalies` asset: usage_daily in, published anomaly rows and incidents out."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tokenomics.anomalies.incidents import IncidentParams, build_incidents
from tokenomics.anomalies.metrics import Metric, detect_usage


@dataclass(frozen=True)
class UsageAnomalies:
    detections: pl.DataFrame  # every metric series x day (expected, bands, scores)
    incidents: pl.DataFrame  # one per team excursion, explained; what alerts are made of
    anomalies: pl.DataFrame  # the published `anomalies` rows: flagged/new-series days + incident


def find_usage_anomalies(
    usage_daily: pl.DataFrame,
    metrics: tuple[Metric, ...] | None = None,
    params: IncidentParams | None = None,
) -> UsageAnomalies:
    """Detect on every metric series of `usage_daily` (give it the trailing window: ~60 days
    before the first day you publish), group into incidents and annotate the anomalous rows."""
    detections = detect_usage(usage_daily, metrics)
    incidents = build_incidents(detections, usage_daily, params, metrics)
    return UsageAnomalies(detections, incidents, anomaly_rows(detections, incidents))


def anomaly_rows(detections: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """Flagged and new-series rows with incident_id, severity, explanation and root cause.

    A row whose episode joined no incident (a non-paging metric on its own) keeps null there.
    """
    events = detections.filter(pl.col("is_anomaly") | pl.col("kind").is_not_null())
    links = (
        incidents.select("incident_id", "severity", "explanation", "root_cause", "episode_ids")
        .explode("episode_ids")
        .rename({"episode_ids": "episode_id"})
        .unique("episode_id", keep="first")
    )
    return events.join(links, on="episode_id", how="left").sort("day", "metric", "series")
