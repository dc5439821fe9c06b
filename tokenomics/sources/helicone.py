"""Helicone request exports (HeliconeRequest rows as JSON lines, a JSON array, a `{"data": [...]}` API answer or CSV).

Traps handled here (reference/formats.md sections 9.1 and 11):
- Cost has two units. API objects carry `costUSD` (dollars): used when present. A raw ClickHouse / HQL
  export carries only `cost` as an integer of USD x 1,000,000,000 (COST_PRECISION_MULTIPLIER): a `cost`
  written as an integer ("1234500", no decimal point or exponent) is read as nano-dollars; a `cost` with
  a decimal point ("0.0012345") is already dollars. Only a cost of a whole number of dollars written as
  an integer would be misread, and Helicone never writes one outside ClickHouse.
- `prompt_tokens` vs `prompt_cache_read_tokens` / `prompt_cache_write_tokens`: Helicone copies each
  provider's own convention. Anthropic rows (provider ANTHROPIC) count uncached input only, so cache
  reads and writes are added; other providers (OpenAI: cached_tokens inside prompt_tokens) are taken as
  inclusive, unless prompt_tokens is smaller than the cache tokens, which only an exclusive count can be.
- `response_status` is HTTP: >= 400 is an error, and so are negative sentinels (-1, -2: the request never
  completed); a missing status is 'ok'.
- A Helicone cache hit (`cache_reference_id` set and not the all-zero uuid) never reached a provider:
  it is skipped and counted.
- Bodies (`request_body`, `response_body`, `signed_body_url`) and `target_url` are never read.

Hint columns: model = model_override, else response_model, else model, else request_model;
user_hash = HMAC of `request_user_id`; labels = the string values of `request_properties` (the
`Helicone-Property-*` headers, prefix removed); gateway_team = the label named team / team_id / team-name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.privacy import pseudonymize
from tokenomics.sources import gateways as gw
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import parse_money, text_or_null
from tokenomics.sources.text import names_fields

SOURCE = "helicone"
TABLES = ("usage_events",)

REQUEST_FIELDS: dict[str, pl.DataType] = {
    name: pl.String()
    for name in (
        "request_id",
        "request_created_at",
        "request_user_id",
        "request_properties",
        "request_model",
        "model_override",
        "response_model",
        "model",
        "provider",
        "prompt_tokens",
        "completion_tokens",
        "prompt_cache_read_tokens",
        "prompt_cache_write_tokens",
        "cost",
        "costUSD",
        "response_status",
        "delay_ms",
        "cache_reference_id",
    )
}
"""Fields read from a HeliconeRequest; bodies and everything else are never parsed."""

SNIFF_FIELDS = ("request_id", "request_created_at")

NANO_USD = 1_000_000_000
"""ClickHouse `cost` = USD x COST_PRECISION_MULTIPLIER."""

NO_CACHE_HIT = "00000000-0000-0000-0000-000000000000"
PROPERTY_PREFIX = "helicone-property-"


def sniff(path: Path, head: bytes) -> bool:
    """A Helicone request names request_id and request_created_at (JSON keys or CSV header)."""
    return names_fields(head, json_keys=SNIFF_FIELDS, csv_columns=SNIFF_FIELDS)


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one Helicone export."""
    yield from gw.read_logs(
        path, source=SOURCE, fields=REQUEST_FIELDS, stage=stage_requests, envelope="data", chunk_rows=chunk_rows
    )


def stage_requests(frame: pl.DataFrame) -> Staged:
    """Map text Helicone rows (`REQUEST_FIELDS` + `_line`, `_reject`) to staged usage_events."""
    labels = gw.metadata_labels(frame["request_properties"], strip_prefix=PROPERTY_PREFIX)
    frame = frame.with_columns(labels.alias("_labels"), gw.gateway_provider(pl.col("provider")).alias("_provider"))
    cache_ref = text_or_null(pl.col("cache_reference_id"))
    models = ("model_override", "response_model", "model", "request_model")
    return gw.stage_usage(
        frame,
        skip=cache_ref.is_not_null() & (cache_ref != NO_CACHE_HIT),
        counts={
            "prompt": pl.col("prompt_tokens"),
            "output_tokens": pl.col("completion_tokens"),
            "cache_read_tokens": pl.col("prompt_cache_read_tokens"),
            "cache_write_tokens": pl.col("prompt_cache_write_tokens"),
        },
        timestamp=pl.col("request_created_at"),
        rejects=(*gw.ROW_REJECTS, gw.bad_money(pl.col("costUSD")), gw.bad_money(pl.col("cost"))),
        columns={
            "event_id": text_or_null(pl.col("request_id")),
            "provider": pl.col("_provider"),
            "model": pl.coalesce(*(text_or_null(pl.col(c)) for c in models)),
            "user_hash": pseudonymize(text_or_null(pl.col("request_user_id"))),
            "input_tokens": _input_tokens(),
            "cache_read_tokens": pl.col("cache_read_tokens"),
            "cache_write_tokens": pl.col("cache_write_tokens"),
            "output_tokens": pl.col("output_tokens"),
            "status": gw.ok_or_error(gw.http_failed(pl.col("response_status"))),
            "latency_ms": gw.milliseconds(pl.col("delay_ms")),
            "reported_cost_usd": _reported_cost(),
            "gateway_team": gw.label_value(pl.col("_labels"), gw.TEAM_KEY),
            "labels": pl.col("_labels"),
        },
    )


def _input_tokens() -> pl.Expr:
    """All input tokens: Anthropic's prompt_tokens exclude cache tokens, other providers' include them."""
    prompt = pl.col("prompt")
    cache = pl.col("cache_read_tokens").fill_null(0) + pl.col("cache_write_tokens").fill_null(0)
    exclusive = (pl.col("_provider") == "anthropic") | (prompt < cache)
    return pl.when(exclusive & (prompt >= 0)).then(prompt + cache).otherwise(prompt)


def _reported_cost() -> pl.Expr:
    """costUSD (dollars); else cost: an integer is ClickHouse nano-dollars, a decimal is dollars."""
    cost = text_or_null(pl.col("cost"))
    nano = cost.str.contains(r"^-?\d+$")
    return pl.coalesce(
        parse_money(pl.col("costUSD")),
        pl.when(nano).then(parse_money(cost, NANO_USD)).otherwise(parse_money(cost)),
    )
