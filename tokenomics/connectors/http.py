"""Paged GETs against a provider admin API (httpx): retries that honour Retry-After, within a budget.

Guarantees, stated up front:
- A report is fetched whole or not at all: `pages` returns every page of a query, or raises
  ConnectorError; the caller writes landing only after it returned, so partial data is never landed.
- 429, 500, 502, 503, 504 and 529 (Anthropic's "overloaded") and transport errors (refused, reset,
  timed out) are retried: after `Retry-After` when the server sends one (seconds or an HTTP date),
  else after an exponential backoff with jitter. The budget is `max_attempts` per request and
  `max_wait_seconds` of waiting per pull; a `Retry-After` beyond what is left fails at once rather
  than sleep past the budget.
- 401/403 end the pull with one line naming the environment variable to set. The key itself is only
  ever in a request header: never in a URL, a message, a log line or a landing file.
- Each page body is kept as the server sent it (numbers keep their literal digits; newlines, which in
  JSON text are only whitespace, become spaces so a page is one JSONL line).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx

from tokenomics.connectors.errors import ConnectorError, scrub

RETRY_STATUS = frozenset({429, 500, 502, 503, 504, 529})


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    max_wait_seconds: float = 300.0


@dataclass
class AdminApi:
    """One provider's admin API: base URL, auth headers, the env var the key came from."""

    name: str  # 'openai', 'anthropic': the prefix of every message
    base_url: str
    headers: dict[str, str]
    key_env: str
    secret: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] = lambda _msg: None
    waited: float = 0.0
    requests: int = 0

    def pages(self, path: str, params: list[tuple[str, str]]) -> tuple[list[str], int]:
        """Every page of one query, following `next_page` while `has_more`: (page texts, results)."""
        out: list[str] = []
        results = 0
        cursor: str | None = None
        with httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers=self.headers,
            timeout=self.timeout_seconds,
            follow_redirects=False,
        ) as client:
            while True:
                query = params + ([("page", cursor)] if cursor else [])
                text = self._get(client, path, query)
                try:
                    page = json.loads(text)
                except json.JSONDecodeError:
                    raise ConnectorError(f"{self.name}: GET {path} returned a body that is not JSON") from None
                if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                    raise ConnectorError(f"{self.name}: GET {path} returned no 'data' list (not a report page)")
                out.append(text.replace("\r", " ").replace("\n", " "))
                results += sum(len(b.get("results") or []) for b in page["data"] if isinstance(b, dict))
                cursor = page.get("next_page")
                if not page.get("has_more") or not cursor:
                    return out, results
                if len(out) > 10_000:
                    raise ConnectorError(f"{self.name}: GET {path}: more than 10,000 pages; the cursor never ends")

    def _get(self, client: httpx.Client, path: str, query: list[tuple[str, str]]) -> str:
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = client.get(path, params=tuple(query))
            except httpx.TransportError as exc:
                problem, wait_hint = f"{type(exc).__name__}", None
            else:
                if response.status_code == 200:
                    return response.text
                if response.status_code in (401, 403):
                    raise ConnectorError(
                        f"{self.name}: the admin key in ${self.key_env} was refused (HTTP {response.status_code}) "
                        f"on GET {path}: set {self.key_env} to a valid, unexpired admin key with usage read access"
                    )
                if response.status_code not in RETRY_STATUS:
                    raise ConnectorError(
                        f"{self.name}: GET {path} failed with HTTP {response.status_code}: "
                        f"{scrub(_excerpt(response.text), [self.secret])}"
                    )
                problem, wait_hint = f"HTTP {response.status_code}", _retry_after(response.headers.get("retry-after"))
            left = self.retry.max_wait_seconds - self.waited
            if attempt >= self.retry.max_attempts:
                raise ConnectorError(
                    f"{self.name}: GET {path}: still {problem} after {attempt} attempts ({self.waited:.1f}s waited); "
                    f"nothing was written; retry later or raise connectors.{self.name}.retry_attempts"
                )
            wait = wait_hint if wait_hint is not None else self._backoff(attempt)
            if wait > left:
                raise ConnectorError(
                    f"{self.name}: GET {path}: {problem}, server asks to wait {wait:.0f}s, beyond the retry budget "
                    f"({left:.0f}s left of connectors.{self.name}.retry_budget_seconds); nothing was written"
                )
            self.log(f"{self.name}: GET {path}: {problem}, retry {attempt} in {wait:.2f}s")
            self.sleep(wait)
            self.waited += wait

    def _backoff(self, attempt: int) -> float:
        base = self.retry.backoff_seconds * 2 ** (attempt - 1)
        return min(self.retry.max_backoff_seconds, base * (0.5 + random.random() / 2))


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds to wait: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _excerpt(text: str, limit: int = 200) -> str:
    one_line = " ".join(text.split())
    return one_line[:limit] + ("..." if len(one_line) > limit else "")
