"""Deliver alerts: route, dedup against the ledger, send with retries and backoff, record the outcome.

Guarantees, per (alert key, channel):
* sent at most once, across retries, reruns and concurrent runs (the ledger claims before sending);
* never lost: a failed delivery stays in the ledger with its error and is retried on the next call,
  even when that call is about other alerts (until `max_total_attempts`);
* backfills do not page: an alert whose day is older than `recency_days` is recorded as
  'skipped_backfill' and never sent;
* a receiver that says when to come back (HTTP `Retry-After`) is not asked sooner; when it asks
  for longer than the backoff cap, the delivery waits for the next run instead of blocking this one;
* a dead channel costs a few timeouts, not one per alert: after `circuit_breaker_failures` failed
  deliveries in a row, the rest of the run skips the channel (circuit open) and its deliveries stay
  due, untouched, for the next run. Other channels are not affected.
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
from tokenomics.alerts.settings import RetryPolicy, Route
from tokenomics.alerts.slack import SlackChannel
from tokenomics.alerts.smtp import EmailChannel
from tokenomics.alerts.webhook import WebhookChannel
from tokenomics.config import (
    AlertChannel,
    AlertsConfig,
    EmailChannelConfig,
    FileChannelConfig,
    SlackChannelConfig,
    WebhookChannelConfig,
)

LEASE = timedelta(minutes=10)  # a claim older than this belongs to a run that died


@dataclass
class DeliveryReport:
    """What one call did; `errors` holds one line per failed delivery (never a secret)."""

    sent: int = 0
    failed: int = 0
    already_done: int = 0
    skipped_backfill: int = 0
    unrouted: int = 0
    circuit_open: int = 0
    """Deliveries not attempted because their channel's circuit opened this run (due next run)."""
    errors: list[str] = field(default_factory=list)


_CHANNELS = {
    SlackChannelConfig: SlackChannel,
    WebhookChannelConfig: WebhookChannel,
    EmailChannelConfig: EmailChannel,
    FileChannelConfig: JsonlChannel,
}


def build_channel(config: AlertChannel) -> Channel:
    """The channel for one `alerts.channels[]` entry of tokenomics.yaml."""
    return _CHANNELS[type(config)](config)


def send_with_retry(
    channel: Channel, alert: Alert, policy: RetryPolicy, sleep: Callable[[float], None]
) -> tuple[bool, int, str | None]:
    """(sent, attempts made, last error). Backoff: base, 2 x base, 4 x base, ... capped; a longer
    Retry-After is honoured, and one beyond the cap ends this run's attempts."""
    error = None
    for attempt in range(1, max(policy.attempts, 1) + 1):
        try:
            channel.send(alert)
            return True, attempt, None
        except DeliveryError as exc:
            error = str(exc)
            if not exc.retryable or attempt == policy.attempts:
                return False, attempt, error
            wait = min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** (attempt - 1))
            if exc.retry_after is not None:
                if exc.retry_after > policy.max_backoff_seconds:
                    return False, attempt, f"{error} (Retry-After {exc.retry_after:g}s: left for the next run)"
                wait = max(wait, exc.retry_after)
        sleep(wait)
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
    circuit_breaker_failures: int = 2,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = utc_now,
) -> DeliveryReport:
    """Record every alert in the ledger, then send everything due (new and previously failed)."""
    book = ledger if isinstance(ledger, AlertLedger) else AlertLedger(ledger)
    own = book is not ledger
    try:
        return _deliver(
            list(alerts),
            channels,
            book,
            tuple(routes),
            recency_days,
            today,
            retry,
            max_total_attempts,
            circuit_breaker_failures,
            sleep,
            now,
        )
    finally:
        if own:
            book.close()


def _deliver(
    alerts, channels, book, routes, recency_days, today, retry, max_total_attempts, breaker, sleep, now
) -> DeliveryReport:
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
    failures_in_a_row = dict.fromkeys(by_name, 0)
    skipped: dict[str, int] = {}
    for alert, name in book.due(set(by_name), max_total_attempts, now(), LEASE):
        if failures_in_a_row[name] >= breaker:
            skipped[name] = skipped.get(name, 0) + 1  # not claimed: still due on the next run
            continue
        if not book.claim(alert.key, name, now(), LEASE):
            continue  # another run is sending it
        ok, attempts, error = send_with_retry(by_name[name], alert, retry, sleep)
        book.finish(alert.key, name, ok, attempts, error, now())
        failures_in_a_row[name] = 0 if ok else failures_in_a_row[name] + 1
        if ok:
            report.sent += 1
        else:
            report.failed += 1
            report.errors.append(f"{alert.key} -> {error}")
    for name, count in skipped.items():
        report.circuit_open += count
        report.errors.append(
            f"{name}: circuit open after {breaker} failed deliveries in a row; {count} left for the next run"
        )
    return report


def deliver_with_settings(
    alerts: Iterable[Alert], config: AlertsConfig, ledger: AlertLedger | Path | str, **kwargs
) -> DeliveryReport:
    """`deliver` driven by the `alerts:` section of tokenomics.yaml, as validated (file paths absolute:
    `settings_from_config`)."""
    return deliver(
        alerts,
        [build_channel(c) for c in config.channels],
        ledger,
        config.routes,
        recency_days=config.recency_days,
        retry=RetryPolicy.of(config),
        max_total_attempts=config.max_total_attempts,
        circuit_breaker_failures=config.circuit_breaker_failures,
        **kwargs,
    )
