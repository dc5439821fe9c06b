"""The alert configuration delivery runs on: the `alerts:` models of tokenomics.yaml, used as they are.

There is no second settings layer any more: a mapping layer once turned `recency_days: 0` into 3 and
`retry_backoff_seconds: 0` into 1.0 (`x or default`) and dropped `headers_env`. The only thing added
here is what needs the home: a file channel's relative path resolved under its alerts/ folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokenomics.config import (
    AlertChannel,
    AlertRoute,
    AlertsConfig,
    EmailChannelConfig,
    FileChannelConfig,
    SlackChannelConfig,
    WebhookChannelConfig,
)

Route = AlertRoute
ChannelSettings = AlertChannel

__all__ = [
    "AlertsConfig",
    "ChannelSettings",
    "EmailChannelConfig",
    "FileChannelConfig",
    "RetryPolicy",
    "Route",
    "SlackChannelConfig",
    "WebhookChannelConfig",
    "settings_from_config",
]


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per delivery within one run, with exponential backoff (base x 2^n, capped)."""

    attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0

    @classmethod
    def of(cls, config: AlertsConfig) -> RetryPolicy:
        return cls(config.retry_attempts, config.retry_backoff_seconds, config.retry_max_backoff_seconds)


def settings_from_config(alerts_config: AlertsConfig, alerts_dir: Path) -> AlertsConfig:
    """The `alerts:` section with every file channel's path made absolute under `alerts_dir`."""
    channels = [
        c.model_copy(update={"path": str(Path(alerts_dir) / c.path)})
        if isinstance(c, FileChannelConfig) and not Path(c.path).is_absolute()
        else c
        for c in alerts_config.channels
    ]
    return alerts_config.model_copy(update={"channels": channels})
