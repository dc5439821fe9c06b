"""Alert channels (Slack, webhook, SMTP email, JSONL file), routing, retries and a dedup ledger."""

from tokenomics.alerts.delivery import DeliveryReport, build_channel, deliver, deliver_with_settings
from tokenomics.alerts.ledger import AlertLedger
from tokenomics.alerts.model import Alert, alerts_from_incidents, pipeline_failure_alert, stale_tables_alert
from tokenomics.alerts.settings import RetryPolicy, Route, settings_from_config

__all__ = [
    "Alert",
    "AlertLedger",
    "DeliveryReport",
    "RetryPolicy",
    "Route",
    "alerts_from_incidents",
    "build_channel",
    "deliver",
    "deliver_with_settings",
    "pipeline_failure_alert",
    "settings_from_config",
    "stale_tables_alert",
]
