"""Cloudflare AI Gateway logs (the logs API answer `{"result": [...]}` saved as is, pages as JSON lines, or bare log rows).

Traps handled here (reference/formats.md sections 9.3 and 11):
- `cost` is dollars (a JSON number, optional; `custom_cost` only says who supplied it).
- `cached: true` rows were answered from the gateway's cache and never reached a provider (no provider
  tokens, no bill): they are skipped and counted, like LiteLLM cache hits.
- `tokens_in` / `tokens_out` carry no cache or reasoning split: input_tokens = tokens_in.
- `success: false` or an HTTP `status_code` >= 400 is an error.
- `metadata` is a **string** of JSON (the `cf-aig-metadata` header); its string values become labels,
  and `team` / `team_id` among them is gateway_team (number and boolean values are not labels).
- `created_at` is ISO 8601 (Z or offset); `duration` is milliseconds.
- `request_head` / response bodies are never read.
Records of an API answer are numbered with the line of their page (1 for a saved answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources.cloud_bills import parse_utc
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
    truthy,
)
from tokenomics.sources.jsonio import blank_to_null, with_counts
from tokenomics.sources.normalize import Staged

SOURCE = "cloudflare"
TABLES = ("usage_events",)

S = pl.String
LOG_FIELDS: dict[str, pl.DataType] = {
    name: S
    for name in (
        "id", "created_at", "provider", "model", "tokens_in", "tokens_out", "cost", "success", "cached",
        "status_code", "duration", "metadata",
    )
}
"""Fields read from a gateway log; everything else (request/response heads included) is never parsed."""


def sniff(path: Path, head: bytes) -> bool:
    """A gateway log (JSON only) names tokens_in, tokens_out and created_at."""
    return is_json_head(head) and all(k in head for k in (b'"tokens_in"', b'"tokens_out"', b'"created_at"'))


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one AI Gateway logs file."""
    for frame in iter_text_rows(Path(path), source=SOURCE, fields=LOG_FIELDS, envelope="result",
                                chunk_rows=chunk_rows):
        yield stage_logs(frame)


def stage_logs(frame: pl.DataFrame) -> Staged:
    """Map text gateway-log rows (`LOG_FIELDS` + `_line`, `_reject`) to staged usage_events."""
    unreadable, rows = split_unreadable(frame)
    cached = truthy(pl.col("cached")).fill_null(False)
    skipped = rows.select(cached.sum()).item()
    rows = rows.filter(~cached)
    rows = with_counts(rows, {"input_tokens": pl.col("tokens_in"), "output_tokens": pl.col("tokens_out")})
    rows = rows.with_columns(blank_to_null(pl.col("created_at")).alias("_ts_text")).with_columns(
        parse_utc(pl.col("_ts_text")).alias("ts")
    )
    rows = rows.with_columns(metadata_labels(rows["metadata"]).alias("labels"))
    failed = (truthy(pl.col("success")) == False).fill_null(False) | http_failed(pl.col("status_code"))  # noqa: E712
    reject = pl.coalesce(
        pl.when(pl.col("_ts_text").is_not_null() & pl.col("ts").is_null()).then(pl.lit("unparseable_timestamp")),
        pl.when(pl.col("_bad_count")).then(pl.lit("bad_token_count")),
        pl.when(bad_money(pl.col("cost"))).then(pl.lit("bad_reported_cost")),
    )
    staged = rows.select(
        blank_to_null(pl.col("id")).alias("event_id"),
        "ts",
        gateway_provider(pl.col("provider")).alias("provider"),
        blank_to_null(pl.col("model")).alias("model"),
        "input_tokens",
        "output_tokens",
        pl.lit(1, pl.Int64).alias("requests"),
        ok_or_error(failed).alias("status"),
        blank_to_null(pl.col("duration")).cast(pl.Float64, strict=False).round(0).cast(pl.Int64).alias("latency_ms"),
        scaled_money(pl.col("cost"), 1).alias("reported_cost_usd"),
        label_value(pl.col("labels"), TEAM_KEY).alias("gateway_team"),
        "labels",
        "_line",
        reject.alias("_reject"),
    )
    return staged_events(staged, unreadable, skipped)
