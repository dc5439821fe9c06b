"""Channel, route and retry settings as plain dataclasses (the YAML model maps onto these).

Secrets are never values here: the settings name environment variables, read when a channel sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SlackSettings:
    """Slack incoming webhook; the URL itself is a secret, so only its env var name is kept."""

    name: str
    url_env: str
    min_severity: str = "info"
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class WebhookSettings:
    """Generic JSON webhook, signed with HMAC-SHA256 over the raw body when `secret_env` is set."""

    name: str
    url_env: str
    secret_env: str | None = None
    signature_header: str = "X-Tokenomics-Signature"
    min_severity: str = "info"
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class EmailSettings:
    """SMTP email (plain text + HTML). Host, port and sender are config; credentials come from env."""

    name: str
    smtp_host: str
    from_addr: str
    to: tuple[str, ...]
    smtp_port: int = 587
    starttls: bool = True
    use_ssl: bool = False  # implicit TLS (port 465)
    username_env: str | None = None
    password_env: str | None = None
    min_severity: str = "info"
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class FileSettings:
    """JSONL file, one alert per line (for log shippers and tests)."""

    name: str
    path: Path
    min_severity: str = "info"


ChannelSettings = SlackSettings | WebhookSettings | EmailSettings | FileSettings


@dataclass(frozen=True)
class Route:
    """Alerts of teams matching `team` (a glob) at or above `min_severity` go to `channels`."""

    channels: tuple[str, ...]
    team: str = "*"
    min_severity: str = "warning"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per delivery within one run, with exponential backoff (base x 2^n, capped)."""

    attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0


@dataclass(frozen=True)
class AlertSettings:
    """Everything delivery needs besides the alerts and the ledger."""

    channels: tuple[ChannelSettings, ...] = ()
    routes: tuple[Route, ...] = ()  # empty: every channel gets every alert at or above its min_severity
    recency_days: int = 3  # alerts about days older than this are recorded, never sent (backfills)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_total_attempts: int = 20  # across runs; after that a failed delivery stays 'failed' for good


def settings_from_config(alerts_config, alerts_dir: Path) -> AlertSettings:
    """Map the `alerts:` section of tokenomics.yaml (tokenomics.config.AlertsConfig) onto these.

    Duck-typed on purpose, so a new optional config field never breaks delivery. Fields read:
    channels[].{name, kind, min_severity, url_env, secret_env, signature_header, smtp_host,
    smtp_port, starttls, use_ssl, username_env, password_env, from_addr, to, path}, routes[].{team,
    min_severity, channels}, recency_days, retry_attempts, retry_backoff_seconds, max_total_attempts.
    """
    channels: list[ChannelSettings] = []
    for ch in getattr(alerts_config, "channels", []) or []:
        get = lambda key, default=None: getattr(ch, key, default)  # noqa: E731
        kind, name, sev = get("kind"), get("name"), get("min_severity", "info") or "info"
        if kind == "slack":
            channels.append(SlackSettings(name, get("url_env"), sev))
        elif kind == "webhook":
            channels.append(
                WebhookSettings(name, get("url_env"), get("secret_env"), get("signature_header") or "X-Tokenomics-Signature", sev)
            )
        elif kind == "email":
            channels.append(
                EmailSettings(
                    name,
                    get("smtp_host"),
                    get("from_addr"),
                    tuple(get("to") or ()),
                    int(get("smtp_port", 587) or 587),
                    bool(get("starttls", True)),
                    bool(get("use_ssl", False)),
                    get("username_env"),
                    get("password_env"),
                    sev,
                )
            )
        elif kind == "file":
            path = Path(get("path"))
            channels.append(FileSettings(name, path if path.is_absolute() else Path(alerts_dir) / path, sev))
        else:
            raise ValueError(f"alerts.channels: channel '{name}' has unknown kind '{kind}'")
    routes = tuple(
        Route(tuple(r.channels), getattr(r, "team", "*") or "*", getattr(r, "min_severity", "warning") or "warning")
        for r in getattr(alerts_config, "routes", []) or []
    )
    retry = RetryPolicy(
        attempts=int(getattr(alerts_config, "retry_attempts", 4) or 4),
        backoff_seconds=float(getattr(alerts_config, "retry_backoff_seconds", 1.0) or 1.0),
    )
    return AlertSettings(
        channels=tuple(channels),
        routes=routes,
        recency_days=int(getattr(alerts_config, "recency_days", 3) or 3),
        retry=retry,
        max_total_attempts=int(getattr(alerts_config, "max_total_attempts", 20) or 20),
    )
