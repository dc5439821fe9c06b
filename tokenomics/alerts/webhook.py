"""Generic webhook channel: the alert as JSON, signed with HMAC-SHA256 over the exact bytes sent.

Receivers verify with `hmac.compare_digest(header, "sha256=" + hmac(secret, raw_body).hexdigest())`
and can drop repeats with the X-Tokenomics-Alert-Key header (the dedup key). Extra headers (an
Authorization for the receiver, say) come from the env var `headers_env` names: a JSON object or
`Name: value` lines; they never override the content type, the key or the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from tokenomics.alerts.base import DeliveryError, post, secret_from_env
from tokenomics.alerts.model import Alert
from tokenomics.alerts.render import json_document
from tokenomics.config import WebhookChannelConfig


def signature(secret: str, body: bytes) -> str:
    """'sha256=<hex>' of HMAC-SHA256(secret, body)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def extra_headers(text: str, channel: str, var: str) -> dict[str, str]:
    """Headers from a JSON object or `Name: value` lines; an error names the variable, never the value."""
    text = text.strip()
    try:
        parsed = (
            json.loads(text)
            if text.startswith("{")
            else dict(
                (name.strip(), value.strip())
                for name, value in (line.split(":", 1) for line in text.splitlines() if line.strip())
            )
        )
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k for k, v in parsed.items()
    ):
        raise DeliveryError(
            f"{channel}: environment variable {var} must hold a JSON object of headers or 'Name: value' lines",
            retryable=False,
        )
    return parsed


class WebhookChannel:
    def __init__(self, settings: WebhookChannelConfig):
        self.settings = settings
        self.name = settings.name
        self.min_severity = settings.min_severity

    def send(self, alert: Alert) -> None:
        url = secret_from_env(self.settings.url_env, self.name, "webhook URL")
        body = json.dumps(json_document(alert), sort_keys=True, separators=(",", ":")).encode()
        headers: dict[str, str] = {}
        if self.settings.headers_env:
            text = secret_from_env(self.settings.headers_env, self.name, "webhook headers")
            headers.update(extra_headers(text, self.name, self.settings.headers_env))
        headers |= {"Content-Type": "application/json", "X-Tokenomics-Alert-Key": alert.key}
        if self.settings.secret_env:
            secret = secret_from_env(self.settings.secret_env, self.name, "webhook signing secret")
            headers[self.settings.signature_header] = signature(secret, body)
        post(url, body, headers, self.settings.timeout_seconds, self.name)
