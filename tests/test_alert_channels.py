"""Alert delivery against a real local HTTP server and a real local SMTP server (loopback only)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import date, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from tokenomics.alerts.delivery import deliver, deliver_with_settings
from tokenomics.alerts.jsonl import JsonlChannel
from tokenomics.alerts.ledger import AlertLedger
from tokenomics.alerts.model import Alert
from tokenomics.alerts.settings import RetryPolicy
from tokenomics.alerts.slack import SlackChannel
from tokenomics.alerts.smtp import EmailChannel
from tokenomics.alerts.webhook import WebhookChannel
from tokenomics.config import (
    AlertRoute,
    AlertsConfig,
    EmailChannelConfig,
    FileChannelConfig,
    SlackChannelConfig,
    WebhookChannelConfig,
)

TODAY = date(2025, 3, 10)
FAST = RetryPolicy(attempts=3, backoff_seconds=0.001, max_backoff_seconds=0.01)


def alert(key: str = "anomaly:ep1", day: date = TODAY, team: str = "support", severity: str = "warning") -> Alert:
    return Alert(
        key=key,
        day=day,
        team=team,
        severity=severity,
        title="Cost spike: support/reply-drafter",
        text="support/reply-drafter: +$412 (4.1x expected), 92% from gpt-4.1 input tokens; input tokens per request 3.8x",
        facts={"actual": "$545.00", "expected": "$133.00", "impact": "$412.00"},
    )


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        status, headers = status if isinstance(status, tuple) else (status, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.received, server.statuses = [], []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd naming)
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def slack_channel(server, monkeypatch, path: str = "/services/T000/B000/XXXX") -> SlackChannel:
    monkeypatch.setenv("TEST_SLACK_URL", server.url + path)
    return SlackChannel(SlackChannelConfig(name="slack", kind="slack", url_env="TEST_SLACK_URL"))


def test_slack_receives_one_block_kit_message(http_server, monkeypatch, tmp_path):
    report = deliver(
        [alert()], [slack_channel(http_server, monkeypatch)], tmp_path / "ledger.sqlite", today=TODAY, retry=FAST
    )
    assert report.sent == 1
    [request] = http_server.received
    assert request["path"] == "/services/T000/B000/XXXX"
    body = json.loads(request["body"])
    assert body["text"].startswith("Cost spike: support/reply-drafter: support/reply-drafter: +$412")
    header, section, facts, context = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Cost spike: support/reply-drafter", "emoji": True},
    }
    assert section["text"]["type"] == "mrkdwn" and "92% from gpt-4.1 input tokens" in section["text"]["text"]
    assert {"type": "mrkdwn", "text": "*impact*\n$412.00"} in facts["fields"]
    assert "anomaly:ep1" in context["elements"][0]["text"]


def test_webhook_body_is_signed_with_hmac_sha256(http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_HOOK_URL", http_server.url + "/hook")
    monkeypatch.setenv("TEST_HOOK_SECRET", "s3cret-key")
    channel = WebhookChannel(
        WebhookChannelConfig(name="hook", kind="webhook", url_env="TEST_HOOK_URL", secret_env="TEST_HOOK_SECRET")
    )
    deliver([alert()], [channel], tmp_path / "ledger.sqlite", today=TODAY, retry=FAST)
    [request] = http_server.received
    raw = request["body"]
    expected = "sha256=" + hmac.new(b"s3cret-key", raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-Tokenomics-Signature"], expected)
    assert request["headers"]["X-Tokenomics-Alert-Key"] == "anomaly:ep1"
    doc = json.loads(raw)
    assert (doc["version"], doc["key"], doc["day"], doc["team"], doc["severity"]) == (
        1,
        "anomaly:ep1",
        "2025-03-10",
        "support",
        "warning",
    )
    assert doc["facts"]["impact"] == "$412.00"


def test_email_has_plain_text_and_html_parts(smtp_server, monkeypatch, tmp_path):
    port, inbox = smtp_server
    channel = EmailChannel(
        EmailChannelConfig(
            name="mail",
            kind="email",
            smtp_host="127.0.0.1",
            smtp_port=port,
            starttls=False,
            from_addr="tokenomics@example.test",
            to=["finops@example.test", "lead@example.test"],
        )
    )
    report = deliver([alert()], [channel], tmp_path / "ledger.sqlite", today=TODAY, retry=FAST)
    assert report.sent == 1
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "tokenomics@example.test"
    assert envelope.rcpt_tos == ["finops@example.test", "lead@example.test"]
    msg = message_from_bytes(envelope.content, policy=policy.default)
    assert msg["Subject"] == "[tokenomics warning] Cost spike: support/reply-drafter"
    assert msg["X-Tokenomics-Alert-Key"] == "anomaly:ep1"
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "support/reply-drafter: +$412 (4.1x expected)" in plain and "impact: $412.00" in plain
    assert "<h2" in html and "92% from gpt-4.1 input tokens" in html


def test_server_error_then_success_delivers_exactly_once(http_server, monkeypatch, tmp_path):
    http_server.statuses = [500, 200]
    channel = slack_channel(http_server, monkeypatch)
    ledger = tmp_path / "ledger.sqlite"
    first = deliver([alert()], [channel], ledger, today=TODAY, retry=FAST)
    assert (first.sent, first.failed) == (1, 0)
    assert len(http_server.received) == 2  # one 500, one 200
    second = deliver([alert()], [channel], ledger, today=TODAY, retry=FAST)
    assert (second.sent, second.already_done) == (0, 1)
    assert len(http_server.received) == 2
    with AlertLedger(ledger) as book:
        row = book.to_frame().row(0, named=True)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)


def test_rerun_of_the_same_alerts_sends_nothing_new(http_server, monkeypatch, tmp_path):
    channel = slack_channel(http_server, monkeypatch)
    alerts = [alert("anomaly:a"), alert("anomaly:b"), alert("budget:support:2025-03:80")]
    ledger = tmp_path / "ledger.sqlite"
    assert deliver(alerts, [channel], ledger, today=TODAY, retry=FAST).sent == 3
    rerun = deliver(alerts, [channel], ledger, today=TODAY, retry=FAST)
    assert (rerun.sent, rerun.already_done) == (0, 3)
    assert len(http_server.received) == 3


def test_alert_older_than_recency_window_is_recorded_not_sent(http_server, monkeypatch, tmp_path):
    channel = slack_channel(http_server, monkeypatch)
    ledger = tmp_path / "ledger.sqlite"
    old = alert("anomaly:old", day=TODAY - timedelta(days=10))
    report = deliver([old, alert("anomaly:new")], [channel], ledger, today=TODAY, recency_days=3, retry=FAST)
    assert (report.sent, report.skipped_backfill) == (1, 1)
    assert [json.loads(r["body"])["text"] for r in http_server.received] == [f"{alert().title}: {alert().text}"]
    with AlertLedger(ledger) as book:
        assert book.status("anomaly:old", "slack") == "skipped_backfill"
    # and a later run does not send it either
    deliver([], [channel], ledger, today=TODAY, retry=FAST)
    assert len(http_server.received) == 1


def test_failed_delivery_is_kept_and_retried_on_the_next_call(http_server, monkeypatch, tmp_path):
    http_server.statuses = [503, 503, 503]
    channel = slack_channel(http_server, monkeypatch, path="/services/T1/B1/SECRETTOKEN")
    ledger = tmp_path / "ledger.sqlite"
    first = deliver([alert()], [channel], ledger, today=TODAY, retry=FAST)
    assert (first.sent, first.failed) == (0, 1)
    with AlertLedger(ledger) as book:
        row = book.to_frame().row(0, named=True)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert row["last_error"].startswith("slack: HTTP 503")
    assert "SECRETTOKEN" not in row["last_error"]  # the webhook URL is a secret
    # the next run is about other alerts, but the failed one is retried (server is fine now)
    second = deliver([], [channel], ledger, today=TODAY, retry=FAST)
    assert second.sent == 1
    assert len(http_server.received) == 4


def test_client_error_is_not_retried_within_the_run(http_server, monkeypatch, tmp_path):
    http_server.statuses = [404]
    report = deliver(
        [alert()], [slack_channel(http_server, monkeypatch)], tmp_path / "l.sqlite", today=TODAY, retry=FAST
    )
    assert report.failed == 1 and len(http_server.received) == 1


def test_missing_secret_is_a_failed_delivery_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("TEST_UNSET_URL", raising=False)
    channel = SlackChannel(SlackChannelConfig(name="slack", kind="slack", url_env="TEST_UNSET_URL"))
    report = deliver([alert()], [channel], tmp_path / "l.sqlite", today=TODAY, retry=FAST)
    assert report.errors == [
        "anomaly:ep1 -> slack: environment variable TEST_UNSET_URL for the Slack webhook URL is not set"
    ]


def test_routes_by_team_and_severity(tmp_path):
    support = JsonlChannel(FileChannelConfig(name="support-file", kind="file", path=str(tmp_path / "support.jsonl")))
    pager = JsonlChannel(FileChannelConfig(name="pager-file", kind="file", path=str(tmp_path / "pager.jsonl")))
    routes = (
        AlertRoute(channels=["support-file"], team="support*"),
        AlertRoute(channels=["pager-file"], min_severity="critical"),
    )
    alerts = [
        alert("anomaly:1", team="support"),
        alert("anomaly:2", team="support-eu", severity="critical"),
        alert("anomaly:3", team="search", severity="warning"),  # no route: recorded as unrouted
        alert("anomaly:4", team="support", severity="info"),  # below the route's floor
    ]
    report = deliver(alerts, [support, pager], tmp_path / "l.sqlite", routes, today=TODAY)
    assert (report.sent, report.unrouted) == (3, 2)
    keys = lambda path: [json.loads(line)["key"] for line in path.read_text().splitlines()]  # noqa: E731
    assert keys(tmp_path / "support.jsonl") == ["anomaly:1", "anomaly:2"]
    assert keys(tmp_path / "pager.jsonl") == ["anomaly:2"]


def test_settings_deliver_to_a_jsonl_file(tmp_path):
    settings = AlertsConfig(channels=[FileChannelConfig(name="file", kind="file", path=str(tmp_path / "alerts.jsonl"))])
    report = deliver_with_settings([alert()], settings, tmp_path / "l.sqlite", today=TODAY)
    assert report.sent == 1
    [line] = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert json.loads(line)["text"].startswith("support/reply-drafter: +$412")


def test_settings_from_the_yaml_alerts_section(tmp_path):
    from tokenomics.alerts.settings import settings_from_config
    from tokenomics.config import parse_config

    config = parse_config(
        {
            "alerts": {
                "channels": [
                    {"name": "finops-slack", "kind": "slack", "url_env": "SLACK_URL", "min_severity": "warning"},
                    {
                        "name": "mail",
                        "kind": "email",
                        "smtp_host": "127.0.0.1",
                        "smtp_port": 2525,
                        "from_addr": "a@x.test",
                        "to": ["b@x.test"],
                        "password_env": "SMTP_PASSWORD",
                    },
                    {"name": "log", "kind": "file", "path": "alerts.jsonl"},
                ],
                "routes": [{"team": "support", "channels": ["finops-slack", "log"]}],
            }
        }
    )
    settings = settings_from_config(config.alerts, tmp_path / "alerts")
    slack, mail, log = settings.channels
    assert (slack.name, slack.url_env, slack.min_severity) == ("finops-slack", "SLACK_URL", "warning")
    assert (mail.smtp_port, mail.to, mail.password_env) == (2525, ["b@x.test"], "SMTP_PASSWORD")
    assert log.path == str(tmp_path / "alerts" / "alerts.jsonl")
    assert settings.routes == [AlertRoute(channels=["finops-slack", "log"], team="support", min_severity="warning")]


def test_email_carries_a_date_header(smtp_server, tmp_path):
    port, inbox = smtp_server
    channel = EmailChannel(
        EmailChannelConfig(
            name="mail",
            kind="email",
            smtp_host="127.0.0.1",
            smtp_port=port,
            starttls=False,
            from_addr="a@example.test",
            to=["b@example.test"],
        )
    )
    deliver([alert()], [channel], tmp_path / "l.sqlite", today=TODAY, retry=FAST)
    msg = message_from_bytes(inbox.envelopes[0].content, policy=policy.default)
    assert msg["Date"] is not None and msg["Date"].datetime.tzinfo is not None


def _alerts_config(tmp_path, **alerts):
    from tokenomics.alerts.settings import settings_from_config
    from tokenomics.config import parse_config

    return settings_from_config(parse_config({"alerts": alerts}).alerts, tmp_path / "alerts")


def test_zero_recency_and_zero_backoff_mean_zero(http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_SLACK_URL", http_server.url + "/s")
    config = _alerts_config(
        tmp_path,
        recency_days=0,
        retry_backoff_seconds=0,
        retry_attempts=2,
        channels=[{"name": "slack", "kind": "slack", "url_env": "TEST_SLACK_URL"}],
    )
    assert (config.recency_days, config.retry_backoff_seconds) == (0, 0)
    http_server.statuses = [500, 200]
    waits: list[float] = []
    yesterday = alert("anomaly:yesterday", day=TODAY - timedelta(days=1))
    report = deliver_with_settings(
        [yesterday, alert("anomaly:today")], config, tmp_path / "l.sqlite", today=TODAY, sleep=waits.append
    )
    assert (report.sent, report.skipped_backfill) == (1, 1)  # recency 0: only today's alerts page
    assert waits == [0]  # backoff 0: retried at once


def test_webhook_headers_env_is_sent(http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_HOOK_URL", http_server.url + "/hook")
    monkeypatch.setenv("TEST_HOOK_HEADERS", '{"Authorization": "Bearer receiver-token", "X-Team": "finops"}')
    config = _alerts_config(
        tmp_path,
        channels=[{"name": "hook", "kind": "webhook", "url_env": "TEST_HOOK_URL", "headers_env": "TEST_HOOK_HEADERS"}],
    )
    assert deliver_with_settings([alert()], config, tmp_path / "l.sqlite", today=TODAY).sent == 1
    headers = http_server.received[0]["headers"]
    assert (headers["Authorization"], headers["X-Team"]) == ("Bearer receiver-token", "finops")


def test_webhook_headers_env_garbled_names_the_variable_not_the_value(monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_HOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("TEST_HOOK_HEADERS", "Bearer-only-secret-value")
    channel = WebhookChannel(
        WebhookChannelConfig(name="hook", kind="webhook", url_env="TEST_HOOK_URL", headers_env="TEST_HOOK_HEADERS")
    )
    report = deliver([alert()], [channel], tmp_path / "l.sqlite", today=TODAY, retry=FAST)
    assert "TEST_HOOK_HEADERS" in report.errors[0] and "secret-value" not in report.errors[0]


def test_retry_after_is_waited_before_the_next_attempt(http_server, monkeypatch, tmp_path):
    http_server.statuses = [(429, {"Retry-After": "2"}), 200]
    waits: list[float] = []
    retry = RetryPolicy(attempts=3, backoff_seconds=0.001, max_backoff_seconds=5)
    report = deliver(
        [alert()],
        [slack_channel(http_server, monkeypatch)],
        tmp_path / "l.sqlite",
        today=TODAY,
        retry=retry,
        sleep=waits.append,
    )
    assert report.sent == 1 and waits == [2]


def test_retry_after_beyond_the_cap_leaves_the_delivery_for_the_next_run(http_server, monkeypatch, tmp_path):
    http_server.statuses = [(503, {"Retry-After": "3600"})]
    waits: list[float] = []
    channel = slack_channel(http_server, monkeypatch)
    report = deliver([alert()], [channel], tmp_path / "l.sqlite", today=TODAY, retry=FAST, sleep=waits.append)
    assert (report.failed, len(http_server.received), waits) == (1, 1, [])
    assert "Retry-After 3600s" in report.errors[0]


def test_a_failing_channel_is_skipped_for_the_rest_of_the_run(http_server, monkeypatch, tmp_path):
    http_server.statuses = [503] * 100
    channel = slack_channel(http_server, monkeypatch)
    log = JsonlChannel(FileChannelConfig(name="log", kind="file", path=str(tmp_path / "log.jsonl")))
    ledger = tmp_path / "l.sqlite"
    alerts = [alert(f"anomaly:{i}") for i in range(5)]
    report = deliver(alerts, [channel, log], ledger, today=TODAY, retry=FAST, circuit_breaker_failures=2)
    assert len(http_server.received) == 2 * FAST.attempts  # two deliveries tried, then the circuit opened
    assert (report.failed, report.circuit_open, report.sent) == (2, 3, 5)  # the file channel got all 5
    assert any("circuit open" in e for e in report.errors)
    http_server.statuses = []
    again = deliver([], [channel, log], ledger, today=TODAY, retry=FAST)
    assert again.sent == 5  # the skipped three and the two failed ones
