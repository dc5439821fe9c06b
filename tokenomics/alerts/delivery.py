"""Deliver alerts: route, dedup against the ledger, send with retries and backoff, record the outcome.

Guarantees, per (alert key, channel):
* sent at most once, across retries, reruns and concurrent runs (the ledger claims before sending);
* never lost: a failed delivery stays in the ledger with its error and is retried on the next call,
  even when that call is about other alerts (until `max_total_attempts`);
* backfills do not page: an alert whose day is older than `recency_days` is recorded as
  'skipped_backfill' and never sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from tokenomics.alerts.base import Channel, DeliveryError
from tokenomics.alerts.jsonl import JsonlChannel
from tokenomics.alerts.ledger import AlertLedger, utc_now
from tokenomics.alerts.model import Alert
from tokenomics.alerts.routing import route
from tokenomics.alerts.settings import (
    AlertSettings,
    ChannelSettings,
    EmailSettings,
    FileSettings,
    RetryPolicy,
    Route,
    SlackSettings,
    WebhookSettings,
)
from tokenomics.alerts.slack import SlackChannel
from tokenomics.alerts.smtp import EmailChannel
from tokenomics.alerts.webhook import WebhookChannel

LEASE = timedelta(minutes=10)  # a claim older than this belongs to a run that died


@dataclass
class DeliveryReport:
    """What one call did; `errors` holds one line per failed delivery (never a secret)."""

    sent: int = 0
    failed: int = 0
    already_done: int = 0
    skipped_backfill: int = 0
    unrouted: int = 0
    errors: list[str] = field(default_factory=list)


def build_channel(settings: ChannelSettings) -> Channel:
    if isinstance(settings, SlackSettings):
        return SlackChannel(settings)
    if isinstance(settings, WebhookSettings):
        return WebhookChannel(settings)
    if isinstance(settings, EmailSettings):
        return EmailChannel(settings)
    if isinstance(settings, FileSettings):
        return JsonlChannel(settings)
    raise TypeError(f"unknown channel settings {type(settings).__name__}")


def send_with_retry(channel: Channel, alert: Alert, policy: RetryPolicy, sleep: Callable[[float], None]) -> tuple[bool, int, str | None]:
    """(sent, attempts made, last error). Backoff: base, 2 x base, 4 x base, ... capped."""
    error = None
    for attempt in range(1, max(policy.attempts, 1) + 1):
        try:
            channel.send(alert)
            return True, attempt, None
        except DeliveryError as exc:
            error = str(exc)
            if not exc.retryable or attempt == policy.attempts:
                return False, attempt, error
        sleep(min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** (attempt - 1)))
    return False, max(policy.attempts, 1), error


def deliver(
    alerts: Iterable[Alert],
    channels: Sequence[Channel],
    ledger: AlertLedger | Path | str,
    routes: Sequence[Route] = (),
    *,
    recency_days: int = 3,
    today: date | None = None,
    retry: RetryPolicy = RetryPolicy(),
    max_total_attempts: int = 20,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = utc_now,
) -> DeliveryReport:
    """Record every alert in the ledger, then send everything due (new and previously failed)."""
    own = not isinstance(ledger, AlertLedger)
    book = AlertLedger(ledger) if own else ledger
    try:
        return _deliver(list(alerts), channels, book, tuple(routes), recency_days, today, retry, max_total_attempts, sleep, now)
    finally:
        if own:
            book.close()


def _deliver(alerts, channels, book, routes, recency_days, today, retry, max_total_attempts, sleep, now) -> DeliveryReport:
    report = DeliveryReport()
    by_name = {c.name: c for c in channels}
    floors = {c.name: c.min_severity for c in channels}
    oldest = (today or now().date()) - timedelta(days=recency_days)
    for alert in alerts:
        names = route(alert, routes, floors)
        if not names:
            report.unrouted += book.record(alert, "", "unrouted", now())
            continue
        for name in names:
            status = "skipped_backfill" if alert.day < oldest else "pending"
            if book.record(alert, name, status, now()):
                report.skipped_backfill += status == "skipped_backfill"
            elif book.status(alert.key, name) in ("sent", "skipped_backfill"):
                report.already_done += 1
    for alert, name in book.due(set(by_name), max_total_attempts, now(), LEASE):
        if not book.claim(alert.key, name, now(), LEASE):
            continue  # another run is sending it
        ok, attempts, error = send_with_retry(by_name[name], alert, retry, sleep)
        book.finish(alert.key, name, ok, attempts, error, now())
        if ok:
            report.sent += 1
        else:
            report.failed += 1
            report.errors.append(f"{alert.key} -> {error}")
    return report


def deliver_with_settings(
    alerts: Iterable[Alert], settings: AlertSettings, ledger: AlertLedger | Path | str, **kwargs
) -> DeliveryReport:
    """`deliver` with channels, routes, recency and retry taken from AlertSettings."""
    return deliver(
        alerts,
        [build_channel(c) for c in settings.channels],
        ledger,
        settings.routes,
        recency_days=settings.recency_days,
        retry=settings.retry,
        max_total_attempts=settings.max_total_attempts,
        **kwargs,
    )
