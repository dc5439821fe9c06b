"""The alert ledger in PostgreSQL (`TOKENOMICS_LEDGER_URL`): the same rules as the SQLite ledger, and
exactly-once delivery when runs on different machines (here: processes) deliver at the same time.

A real PostgreSQL server on loopback (tests/servers.py) and a real HTTP webhook receiver."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tokenomics.alerts.delivery import deliver
from tokenomics.alerts.ledger import LEDGER_URL_ENV, AlertLedger, describe_location, ledger_location
from tokenomics.alerts.model import Alert
from tokenomics.alerts.settings import RetryPolicy
from tokenomics.alerts.webhook import WebhookChannel
from tokenomics.config import WebhookChannelConfig

TODAY = date(2025, 3, 10)
NOW = datetime(2025, 3, 10, 6, 0, tzinfo=timezone.utc)
LEASE = timedelta(minutes=10)
FAST = RetryPolicy(attempts=2, backoff_seconds=0.001, max_backoff_seconds=0.01)


def alert(key: str) -> Alert:
    return Alert(key=key, day=TODAY, team="support", severity="warning", title=f"Cost spike {key}", text="+$412")


@pytest.fixture
def ledger_url(postgres) -> str:
    return postgres.create_database(f"ledger_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgres"])
def location(request, tmp_path) -> Path | str:
    if request.param == "sqlite":
        return tmp_path / "ledger.sqlite"
    return request.getfixturevalue("ledger_url")


def test_record_claim_lease_and_finish_follow_the_same_rules_on_both_databases(location):
    with AlertLedger(location) as book:
        assert book.record(alert("a"), "hook", "pending", NOW) is True
        assert book.record(alert("a"), "hook", "pending", NOW) is False  # one row per (key, channel)
        assert book.record(alert("a"), "mail", "pending", NOW) is True
        assert book.claim("a", "hook", NOW, LEASE) is True
        assert book.claim("a", "hook", NOW + timedelta(minutes=1), LEASE) is False  # someone holds it
        assert [(a.key, c) for a, c in book.due({"hook", "mail"}, 3, NOW, LEASE)] == [("a", "mail")]
        # a claim older than the lease (a killed run) is taken over
        assert book.claim("a", "hook", NOW + LEASE + timedelta(seconds=1), LEASE) is True
        book.finish("a", "hook", True, 1, None, NOW + timedelta(minutes=11))
        book.finish("a", "mail", False, 2, "mail: 451", NOW + timedelta(minutes=11))
        assert book.status("a", "hook") == "sent" and book.status("a", "mail") == "failed"
        assert book.due({"hook", "mail"}, 2, NOW, LEASE) == []  # mail used its 2 attempts
        frame = book.to_frame()
    assert frame.select("channel", "status", "attempts", "last_error").rows() == [
        ("hook", "sent", 1, None),
        ("mail", "failed", 2, "mail: 451"),
    ]
    assert frame["sent_at"].to_list() == [NOW + timedelta(minutes=11), None]


def test_both_databases_publish_the_same_alerts_table(tmp_path, ledger_url):
    frames = []
    for location in (tmp_path / "ledger.sqlite", ledger_url):
        with AlertLedger(location) as book:
            for i, key in enumerate(["b", "a", "c"]):
                book.record(alert(key), "hook", "pending", NOW + timedelta(seconds=i))
            book.claim("a", "hook", NOW, LEASE)
            book.finish("a", "hook", True, 1, None, NOW + timedelta(minutes=1))
            frames.append(book.to_frame())
    assert frames[0].height == 3
    assert_frame_equal(frames[0], frames[1])


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock:
            self.server.received.append(self.headers["X-Tokenomics-Alert-Key"])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _deliver_from_another_machine(url: str, hook_url: str, keys: list[str], start: multiprocessing.Event) -> None:
    """One run pod: its own process, no shared home, only the database URL."""
    import os

    os.environ["TEST_HOOK_URL"] = hook_url
    channel = WebhookChannel(WebhookChannelConfig(name="hook", kind="webhook", url_env="TEST_HOOK_URL"))
    start.wait(30)
    deliver([alert(k) for k in keys], [channel], url, today=TODAY, retry=FAST)


def test_concurrent_runs_on_different_machines_send_each_alert_once(ledger_url, monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received, server.lock = [], threading.Lock()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    hook_url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    keys = [f"anomaly:{i:02d}" for i in range(40)]
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    # four runs, each raising the whole list in its own order
    orders = [keys, keys[::-1], keys[1::2] + keys[::2], keys[::2] + keys[1::2]]
    runs = [
        context.Process(target=_deliver_from_another_machine, args=(ledger_url, hook_url, o, start)) for o in orders
    ]
    try:
        for run in runs:
            run.start()
        start.set()
        for run in runs:
            run.join(120)
        assert [run.exitcode for run in runs] == [0, 0, 0, 0]
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(server.received) == keys, "every alert reached the webhook exactly once"
    with AlertLedger(ledger_url) as book:
        table = book.to_frame()
    assert table.height == 40 and table["status"].unique().to_list() == ["sent"]
    assert table["attempts"].to_list() == [1] * 40


def test_the_ledger_location_comes_from_the_environment(tmp_path):
    assert ledger_location(tmp_path, environ={}) == tmp_path / "ledger.sqlite"
    url = "postgresql://tokenomics:s3cret@db.internal:5432/dagster"
    assert ledger_location(tmp_path, environ={LEDGER_URL_ENV: url}) == url
    assert describe_location(url) == "postgresql://tokenomics@db.internal:5432/dagster"  # no password in metadata
    with pytest.raises(ValueError, match=f"{LEDGER_URL_ENV} must be a postgresql:// URL"):
        ledger_location(tmp_path, environ={LEDGER_URL_ENV: "mysql://db/alerts"})


def test_the_alerts_table_schema_matches_the_table_reference(ledger_url):
    from tokenomics.alerts.ledger import LEDGER_SCHEMA

    with AlertLedger(ledger_url) as book:
        book.record(alert("a"), "hook", "pending", NOW)
        frame = book.to_frame()
    assert dict(frame.schema) == LEDGER_SCHEMA
    assert frame["day"].to_list() == [TODAY] and frame.schema["first_seen_at"] == pl.Datetime("us", "UTC")
