"""Generic webhook channel: the alert as JSON, signed with HMAC-SHA256 over the exact bytes sent.

Receivers verify with `hmac.compare_digest(header, "sha256=" + hmac(secret, raw_body).hexdigest())`
and can drop repeats with the X-Tokenomics-Alert-Key header (the dedup key).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from tokenomics.alerts.base import post, secret_from_env
from tokenomics.alerts.model import Alert
from tokenomics.alerts.render import json_document
from tokenomics.alerts.settings import WebhookSettings


def signature(secret: str, body: bytes) -> str:
    """'sha256=<hex>' of HMAC-SHA256(secret, body)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    def __init__(self, settings: WebhookSettings):
        self.settings = settings
        self.name = settings.name
        self.min_severity = settings.min_severity

    def send(self, alert: Alert) -> None:
        url = secret_from_env(self.settings.url_env, self.name, "webhook URL")
        body = json.dumps(json_document(alert), sort_keys=True, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Tokenomics-Alert-Key": alert.key}
        if self.settings.secret_env:
            secret = secret_from_env(self.settings.secret_env, self.name, "webhook signing secret")
            headers[self.settings.signature_header] = signature(secret, body)
        post(url, body, headers, self.settings.timeout_seconds, self.name)
