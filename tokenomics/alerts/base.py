"""What every channel shares: the error type, env-var secrets, HTTP posting with redacted errors."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

from tokenomics.alerts.model import Alert


class DeliveryError(Exception):
    """A delivery that did not happen. `retryable` False: retrying within this run is pointless."""

    def __init__(self, message: str, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        """Seconds the receiver asked us to wait (HTTP Retry-After), if it said."""


class Channel(Protocol):
    name: str
    min_severity: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert or raise DeliveryError."""


def secret_from_env(var: str | None, channel: str, what: str) -> str:
    """The secret an env var holds; a non-retryable error naming the variable when it is unset."""
    value = os.environ.get(var) if var else None
    if not value:
        raise DeliveryError(
            f"{channel}: environment variable {var or '(none configured)'} for the {what} is not set", retryable=False
        )
    return value


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, channel: str) -> None:
    """POST `body`; 2xx is success, 429 and 5xx are retryable, other 4xx are not.

    Error messages never contain the URL: a Slack webhook URL is itself the secret.
    """
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{channel}: {type(exc).__name__}: {_redact(str(exc), url)}") from None
    if 200 <= response.status_code < 300:
        return
    snippet = _redact(response.text[:200].strip(), url)
    retryable = response.status_code == 429 or response.status_code >= 500
    raise DeliveryError(
        f"{channel}: HTTP {response.status_code} {snippet}".rstrip(),
        retryable=retryable,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")) if retryable else None,
    )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds to wait: delay-seconds or an HTTP-date (RFC 9110); None if absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "<redacted>") if secret else text
