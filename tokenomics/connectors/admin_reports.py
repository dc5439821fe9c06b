"""OpenAI and Anthropic admin API reports for one UTC day, as the landing files their readers read.

OpenAI: `/v1/organization/usage/<kind>` for each configured kind (completions first; the reader
prices completions and counts the other kinds as skipped rows, so they stay visible in the
conservation counts) into `openai_usage`, and `/v1/organization/costs` into `openai_costs`.
Anthropic: `/v1/organizations/usage_report/messages` into `anthropic_usage` and
`/v1/organizations/cost_report` into `anthropic_cost`.

Every query asks for one day bucket (`bucket_width=1d`, the day's UTC bounds) with `group_by` so each
result carries project/workspace, key and model; the array parameter is repeated
(`group_by=model&group_by=project_id`) for OpenAI and bracketed (`group_by[]=model`) for Anthropic,
as each API documents. A landing file is the JSONL of the pages, one page per line, as served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING

from tokenomics.connectors.http import AdminApi, RetryPolicy

if TYPE_CHECKING:
    from tokenomics.config import AnthropicConnector, OpenAIConnector

OPENAI_BASE_URL = "https://api.openai.com"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"

OPENAI_USAGE_GROUP_BY: dict[str, tuple[str, ...]] = {
    "completions": ("project_id", "api_key_id", "model", "batch", "service_tier"),
    "embeddings": ("project_id", "api_key_id", "model"),
    "moderations": ("project_id", "api_key_id", "model"),
    "images": ("project_id", "api_key_id", "model", "size", "source"),
    "audio_speeches": ("project_id", "api_key_id", "model"),
    "audio_transcriptions": ("project_id", "api_key_id", "model"),
    "vector_stores": ("project_id",),
    "code_interpreter_sessions": ("project_id",),
}
"""The group_by each usage endpoint accepts that the canonical provider_usage keeps (user_id is left out:
it multiplies rows and provider_usage has no user)."""
OPENAI_COSTS_GROUP_BY = ("project_id", "line_item")
ANTHROPIC_USAGE_GROUP_BY = ("workspace_id", "api_key_id", "model", "service_tier", "context_window")
ANTHROPIC_COST_GROUP_BY = ("workspace_id", "description")


@dataclass(frozen=True)
class Fetched:
    """One report for one day, fetched whole: what lands as one file."""

    source: str
    name: str
    content: bytes
    rows: int


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def api_root(base_url: str) -> str:
    """The host root either way a user writes it (`https://api.openai.com` or `.../v1`)."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _jsonl(pages: list[str]) -> bytes:
    return "".join(p + "\n" for p in pages).encode("utf-8")


def openai_api(
    settings: OpenAIConnector,
    secret: str,
    log: Callable[[str], None] = lambda _m: None,
    sleep: Callable[[float], None] | None = None,
) -> AdminApi:
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}
    return _admin_api("openai", OPENAI_BASE_URL, headers, settings, secret, log, sleep)


def anthropic_api(
    settings: AnthropicConnector,
    secret: str,
    log: Callable[[str], None] = lambda _m: None,
    sleep: Callable[[float], None] | None = None,
) -> AdminApi:
    headers = {"x-api-key": secret, "anthropic-version": ANTHROPIC_VERSION, "Accept": "application/json"}
    return _admin_api("anthropic", ANTHROPIC_BASE_URL, headers, settings, secret, log, sleep)


def _admin_api(
    name: str,
    default_base_url: str,
    headers: dict[str, str],
    settings: OpenAIConnector | AnthropicConnector,
    secret: str,
    log: Callable[[str], None],
    sleep: Callable[[float], None] | None,
) -> AdminApi:
    api = AdminApi(
        name=name,
        base_url=api_root(settings.base_url or default_base_url),
        headers=headers,
        key_env=settings.admin_key_env,
        secret=secret,
        retry=_retry(settings),
        timeout_seconds=settings.timeout_seconds,
        log=log,
    )
    if sleep is not None:
        api.sleep = sleep
    return api


def _retry(settings: OpenAIConnector | AnthropicConnector) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.retry_attempts,
        backoff_seconds=settings.retry_backoff_seconds,
        max_backoff_seconds=max(settings.retry_backoff_seconds, 60.0),
        max_wait_seconds=settings.retry_budget_seconds,
    )


def fetch_openai(api: AdminApi, day: date, usage_kinds: list[str], sources: set[str]) -> list[Fetched]:
    """openai_usage (every configured usage kind, one file) and openai_costs for `day`."""
    start, end = day_bounds(day)
    window = [
        ("start_time", str(int(start.timestamp()))),
        ("end_time", str(int(end.timestamp()))),
        ("bucket_width", "1d"),
    ]
    out = []
    if "openai_usage" in sources:
        pages, rows = [], 0
        for kind in usage_kinds:
            got, n = api.pages(
                f"/v1/organization/usage/{kind}", window + [("group_by", g) for g in OPENAI_USAGE_GROUP_BY[kind]]
            )
            pages += got
            rows += n
        out.append(Fetched("openai_usage", f"openai_usage_{day}.jsonl", _jsonl(pages), rows))
    if "openai_costs" in sources:
        pages, rows = api.pages("/v1/organization/costs", window + [("group_by", g) for g in OPENAI_COSTS_GROUP_BY])
        out.append(Fetched("openai_costs", f"openai_costs_{day}.jsonl", _jsonl(pages), rows))
    return out


def fetch_anthropic(api: AdminApi, day: date, sources: set[str]) -> list[Fetched]:
    """anthropic_usage and anthropic_cost for `day`."""
    start, end = day_bounds(day)
    window = [
        ("starting_at", start.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("ending_at", end.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("bucket_width", "1d"),
    ]
    out = []
    if "anthropic_usage" in sources:
        pages, rows = api.pages(
            "/v1/organizations/usage_report/messages", window + [("group_by[]", g) for g in ANTHROPIC_USAGE_GROUP_BY]
        )
        out.append(Fetched("anthropic_usage", f"anthropic_usage_{day}.jsonl", _jsonl(pages), rows))
    if "anthropic_cost" in sources:
        pages, rows = api.pages(
            "/v1/organizations/cost_report", window + [("group_by[]", g) for g in ANTHROPIC_COST_GROUP_BY]
        )
        out.append(Fetched("anthropic_cost", f"anthropic_cost_{day}.jsonl", _jsonl(pages), rows))
    return out
