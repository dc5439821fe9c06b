"""The delivery ledger: one row per (alert key, channel), so nothing is sent twice or lost.

SQLite (standard library) rather than DuckDB or Parquet: several runs (a nightly run and a UI
backfill) may deliver at the same time, and SQLite gives multi-process transactions with a lock
wait, where a DuckDB file admits one writing process and Parquet has no in-place update.
A delivery is claimed (status 'sending') with one conditional UPDATE before it is attempted, so two
concurrent runs never both send it; a claim older than the lease (a killed run) is taken over.

Runs on different machines (one Kubernetes pod per run, an object-storage lake) share no home, so
the ledger can live in PostgreSQL instead: `TOKENOMICS_LEDGER_URL=postgresql://...` (the Dagster
instance's database will do; the table is `tokenomics_alert_deliveries`). The same statements run
on both: PostgreSQL's conditional UPDATE re-checks its WHERE clause on the row a concurrent
transaction just committed, which is what makes the claim exclusive there too.

Statuses: pending (recorded, not yet attempted), sending (claimed), sent, failed (retried on the
next call until max attempts), skipped_backfill (the alert's day is older than the recency window:
recorded, never sent), unrouted (no route matched; channel '').
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import polars as pl

from tokenomics.alerts.model import Alert

LEDGER_URL_ENV = "TOKENOMICS_LEDGER_URL"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    alert_key     TEXT NOT NULL,
    channel       TEXT NOT NULL,
    day           TEXT NOT NULL,
    team          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    first_seen_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    sent_at       TEXT,
    PRIMARY KEY (alert_key, channel)
)
"""

LEDGER_SCHEMA = {
    "alert_key": pl.String,
    "channel": pl.String,
    "day": pl.Date,
    "team": pl.String,
    "severity": pl.String,
    "kind": pl.String,
    "title": pl.String,
    "status": pl.String,
    "attempts": pl.Int64,
    "last_error": pl.String,
    "first_seen_at": pl.Datetime("us", "UTC"),
    "updated_at": pl.Datetime("us", "UTC"),
    "sent_at": pl.Datetime("us", "UTC"),
}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _ts(moment: datetime) -> str:
    # fixed-width ISO text sorts like time, so the lease check is a string comparison
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_database_url(location: Path | str) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def ledger_location(alerts_dir: Path, environ: Mapping[str, str] | None = None) -> Path | str:
    """Where the ledger lives: `TOKENOMICS_LEDGER_URL` (PostgreSQL) if set, else <home>/alerts/ledger.sqlite."""
    url = (os.environ if environ is None else environ).get(LEDGER_URL_ENV, "").strip()
    if not url:
        return alerts_dir / "ledger.sqlite"
    if not is_database_url(url):
        raise ValueError(f"{LEDGER_URL_ENV} must be a postgresql:// URL (got scheme '{urlsplit(url).scheme}')")
    return url


def describe_location(location: Path | str) -> str:
    """The location without its password (for logs and Dagster metadata)."""
    if not is_database_url(location):
        return str(location)
    parts = urlsplit(str(location))
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class AlertLedger:
    """Open (creating if needed) the ledger at `location`: a path (SQLite, e.g. <home>/alerts/ledger.sqlite)
    or a postgresql:// URL (see the module docstring)."""

    def __init__(self, location: Path | str):
        self._postgres = is_database_url(location)
        if self._postgres:
            import psycopg

            self.table = "tokenomics_alert_deliveries"
            self._db: Any = psycopg.connect(str(location), autocommit=True, connect_timeout=30)
            with self._db.transaction():  # runs starting together must not race on CREATE TABLE
                self._execute("SELECT pg_advisory_xact_lock(hashtext(?))", (self.table,))
                self._execute(_SCHEMA)
        else:
            self.table = "deliveries"
            path = Path(location)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 60000")
            self._execute(_SCHEMA)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement written with `?` placeholders on either database; returns the cursor."""
        sql = sql.replace("{table}", self.table)
        return self._db.execute(sql.replace("?", "%s") if self._postgres else sql, params)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AlertLedger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def record(self, alert: Alert, channel: str, status: str, now: datetime) -> bool:
        """Insert the delivery unless the key already has a row for this channel; True if inserted."""
        cur = self._execute(
            "INSERT INTO {table} (alert_key, channel, day, team, severity, kind, title, payload, "
            "status, attempts, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
            "ON CONFLICT (alert_key, channel) DO NOTHING",
            (
                alert.key,
                channel,
                alert.day.isoformat(),
                alert.team,
                alert.severity,
                alert.kind,
                alert.title,
                alert.dumps(),
                status,
                _ts(now),
                _ts(now),
            ),
        )
        return cur.rowcount == 1

    def status(self, key: str, channel: str) -> str | None:
        row = self._execute("SELECT status FROM {table} WHERE alert_key = ? AND channel = ?", (key, channel)).fetchone()
        return row[0] if row else None

    def due(self, channels: set[str], max_attempts: int, now: datetime, lease: timedelta) -> list[tuple[Alert, str]]:
        """Deliveries to attempt now: pending, failed (under max attempts) or abandoned mid-send."""
        stale = _ts(now - lease)
        rows = self._execute(
            "SELECT payload, channel FROM {table} WHERE attempts < ? AND "
            "(status IN ('pending', 'failed') OR (status = 'sending' AND updated_at < ?)) "
            "ORDER BY first_seen_at, alert_key, channel",
            (max_attempts, stale),
        ).fetchall()
        return [(Alert.from_json(json.loads(p)), c) for p, c in rows if c in channels]

    def claim(self, key: str, channel: str, now: datetime, lease: timedelta) -> bool:
        """Mark the delivery 'sending' if nobody else holds it; True if this caller now owns it."""
        cur = self._execute(
            "UPDATE {table} SET status = 'sending', updated_at = ? WHERE alert_key = ? AND channel = ? AND "
            "(status IN ('pending', 'failed') OR (status = 'sending' AND updated_at < ?))",
            (_ts(now), key, channel, _ts(now - lease)),
        )
        return cur.rowcount == 1

    def finish(self, key: str, channel: str, sent: bool, attempts: int, error: str | None, now: datetime) -> None:
        self._execute(
            "UPDATE {table} SET status = ?, attempts = attempts + ?, last_error = ?, updated_at = ?, "
            "sent_at = CASE WHEN ? THEN ? ELSE sent_at END WHERE alert_key = ? AND channel = ?",
            ("sent" if sent else "failed", attempts, error, _ts(now), sent, _ts(now), key, channel),
        )

    def to_frame(self) -> pl.DataFrame:
        """The ledger as a table (the published `alerts` table), oldest first."""
        cols = [c for c in LEDGER_SCHEMA]
        rows = self._execute(
            f"SELECT {', '.join(cols)} FROM {{table}} ORDER BY first_seen_at, alert_key, channel"
        ).fetchall()
        frame = pl.DataFrame(
            rows, schema={c: pl.String if LEDGER_SCHEMA[c] != pl.Int64 else pl.Int64 for c in cols}, orient="row"
        )
        return frame.with_columns(
            pl.col("day").str.to_date(),
            *[
                pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC")
                for c in ("first_seen_at", "updated_at", "sent_at")
            ],
        )
