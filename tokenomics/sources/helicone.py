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
from tokenomics.sources.cloud_bills import parse_utc
from tokenomics.sources.csvio import has_columns
from tokenomics.sources.gateway_exports import (
    TEAM_KEY,
    bad_money,
    gateway_provider,
    http_failed,
    is_json_head,
    iter_text_rows,
    label_value,
    metadata_labels,
    ok_or_error,
    scaled_money,
    split_unreadable,
    staged_events,
)
from tokenomics.sources.jsonio import blank_to_null, with_counts
from tokenomics.sources.normalize import Staged

SOURCE = "helicone"
TABLES = ("usage_events",)

S = pl.String
REQUEST_FIELDS: dict[str, pl.DataType] = {
    name: S
    for name in (
        "request_id", "request_created_at", "request_user_id", "request_properties", "request_model",
        "model_override", "response_model", "model", "provider", "prompt_tokens", "completion_tokens",
        "prompt_cache_read_tokens", "prompt_cache_write_tokens", "cost", "costUSD", "response_status",
        "delay_ms", "cache_reference_id",
    )
}
"""Fields read from a HeliconeRequest; bodies and everything else are never parsed."""

NANO_USD = 1_000_000_000
"""ClickHouse `cost` = USD x COST_PRECISION_MULTIPLIER."""

NO_CACHE_HIT = "00000000-0000-0000-0000-000000000000"
PROPERTY_PREFIX = "helicone-property-"


def sniff(path: Path, head: bytes) -> bool:
    """A Helicone request names request_id and request_created_at (JSON keys or CSV header)."""
    if is_json_head(head):
        return b'"request_id"' in head and b'"request_created_at"' in head
    return has_columns(head, {"request_id", "request_created_at"})


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one Helicone export."""
    for frame in iter_text_rows(Path(path), source=SOURCE, fields=REQUEST_FIELDS, envelope="data",
                                chunk_rows=chunk_rows):
        yield stage_requests(frame)


def stage_requests(frame: pl.DataFrame) -> Staged:
    """Map text Helicone rows (`REQUEST_FIELDS` + `_line`, `_reject`) to staged usage_events."""
    unreadable, rows = split_unreadable(frame)
    cache_ref = blank_to_null(pl.col("cache_reference_id"))
    cache_hit = (cache_ref.is_not_null() & (cache_ref != NO_CACHE_HIT)).fill_null(False)
    skipped = rows.select(cache_hit.sum()).item()
    rows = rows.filter(~cache_hit)
    rows = with_counts(
        rows,
        {
            "prompt": pl.col("prompt_tokens"),
            "output_tokens": pl.col("completion_tokens"),
            "cache_read_tokens": pl.col("prompt_cache_read_tokens"),
            "cache_write_tokens": pl.col("prompt_cache_write_tokens"),
        },
    ).with_columns(
        gateway_provider(pl.col("provider")).alias("_provider"),
        blank_to_null(pl.col("request_created_at")).alias("_ts_text"),
    ).with_columns(parse_utc(pl.col("_ts_text")).alias("ts"))
    labels = metadata_labels(rows["request_properties"], strip_prefix=PROPERTY_PREFIX).alias("labels")
    rows = rows.with_columns(labels)
    reject = pl.coalesce(
        pl.when(pl.col("_ts_text").is_not_null() & pl.col("ts").is_null()).then(pl.lit("unparseable_timestamp")),
        pl.when(pl.col("_bad_count")).then(pl.lit("bad_token_count")),
        pl.when(bad_money(pl.col("costUSD")) | bad_money(pl.col("cost"))).then(pl.lit("bad_reported_cost")),
    )
    staged = rows.select(
        blank_to_null(pl.col("request_id")).alias("event_id"),
        "ts",
        pl.col("_provider").alias("provider"),
        pl.coalesce(*(blank_to_null(pl.col(c)) for c in ("model_override", "response_model", "model",
                                                          "request_model"))).alias("model"),
        pseudonymize(blank_to_null(pl.col("request_user_id"))).alias("user_hash"),
        _input_tokens().alias("input_tokens"),
        "cache_read_tokens",
        "cache_write_tokens",
        "output_tokens",
        pl.lit(1, pl.Int64).alias("requests"),
        ok_or_error(http_failed(pl.col("response_status"))).alias("status"),
        blank_to_null(pl.col("delay_ms")).cast(pl.Float64, strict=False).round(0).cast(pl.Int64).alias("latency_ms"),
        _reported_cost().alias("reported_cost_usd"),
        label_value(pl.col("labels"), TEAM_KEY).alias("gateway_team"),
        "labels",
        "_line",
        reject.alias("_reject"),
    )
    return staged_events(staged, unreadable, skipped)


def _input_tokens() -> pl.Expr:
    """All input tokens: Anthropic's prompt_tokens exclude cache tokens, other providers' include them."""
    prompt = pl.col("prompt")
    cache = pl.col("cache_read_tokens").fill_null(0) + pl.col("cache_write_tokens").fill_null(0)
    exclusive = (pl.col("_provider") == "anthropic") | (prompt < cache)
    return pl.when(exclusive & (prompt >= 0)).then(prompt + cache).otherwise(prompt)


def _reported_cost() -> pl.Expr:
    """costUSD (dollars); else cost: an integer is ClickHouse nano-dollars, a decimal is dollars."""
    cost = blank_to_null(pl.col("cost"))
    nano = cost.str.contains(r"^-?\d+$")
    return pl.coalesce(
        scaled_money(pl.col("costUSD"), 1),
        pl.when(nano).then(scaled_money(cost, NANO_USD)).otherwise(scaled_money(cost, 1)),
    )

