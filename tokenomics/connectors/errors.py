"""The one error type connectors raise: a single line that says what failed and what to do."""

from __future__ import annotations


class ConnectorError(RuntimeError):
    """A pull that could not complete. Nothing was written to landing for it."""


def scrub(text: str, secrets: list[str | None]) -> str:
    """`text` with every secret value replaced, for messages built from a server's or driver's words."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
