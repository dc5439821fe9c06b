"""Anomaly detection on daily usage and cost series: detector, metrics, root cause, incidents, scoring."""

from tokenomics.anomalies.detector import DetectorParams, detect
from tokenomics.anomalies.incidents import IncidentParams, build_incidents
from tokenomics.anomalies.metrics import default_metrics, detect_usage
from tokenomics.anomalies.usage_anomalies import UsageAnomalies, find_usage_anomalies

__all__ = [
    "DetectorParams",
    "IncidentParams",
    "UsageAnomalies",
    "build_incidents",
    "default_metrics",
    "detect",
    "detect_usage",
    "find_usage_anomalies",
]
