"""Portkey logs exports (`POST /v1/logs/exports` requested_data fields, as JSON lines, a JSON array or CSV).

Traps handled here (reference/formats.md sections 9.2 and 11):
- The unit of `cost` is not stated in Portkey's docs. Assumption (formats.md: Portkey analytics
  historically reported cost in cents, unverified): `cost` is in **cents** of `cost_currency`, so it is
  divided by COST_DIVISOR = 100. It becomes reported_cost_usd only when `cost_currency` is USD or absent;
  another currency gives a null reported cost (the catalog still prices the row). Change COST_DIVISOR
  once a real export shows dollars.
- `req_units` / `res_units` are prompt / completion tokens; Portkey gives no cache or reasoning split,
  so input_tokens = req_units (already the whole input, cache included when the provider counted it).
- `is_success` is a boolean (JSON) or "true"/"false" text (CSV); a false value or an HTTP
  `response_status_code` >= 400 (or negative) makes the row an error.
- `metadata` is a JSON object (or its text in CSV); its `_user` key is the end user: pseudonymized into
  user_hash and never a label. The other string values become labels; `team` / `team_id` is gateway_team.
- `request` and `response` (bodies) are never read.

provider = `ai_org`, else the provider part of an `ai_org_model` style `openai__gpt-4o` model string.
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
    json_field,
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

SOURCE = "portkey"
TABLES = ("usage_events",)

S = pl.String
LOG_FIELDS: dict[str, pl.DataType] = {
    name: S
    for name in (
        "id", "trace_id", "created_at", "is_success", "ai_org", "ai_model", "req_units", "res_units",
        "cost", "cost_currency", "response_time", "response_status_code", "metadata",
    )
}
"""Fields read from a Portkey log; `request`/`response` bodies and the rest are never parsed."""

COST_DIVISOR = 100
"""Assumed: Portkey `cost` is in cents (unverified, formats.md section 12)."""


def sniff(path: Path, head: bytes) -> bool:
    """A Portkey log names ai_model and created_at, plus ai_org or req_units (JSON keys or CSV header)."""
    if is_json_head(head):
        return b'"ai_model"' in head and b'"created_at"' in head and (b'"ai_org"' in head or b'"req_units"' in head)
    return has_columns(head, {"ai_model", "created_at"}) and (
        has_columns(head, {"ai_org"}) or has_columns(head, {"req_units"})
    )


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one Portkey logs export."""
    for frame in iter_text_rows(Path(path), source=SOURCE, fields=LOG_FIELDS, envelope="data",
                                chunk_rows=chunk_rows):
        yield stage_logs(frame)


def stage_logs(frame: pl.DataFrame) -> Staged:
    """Map text Portkey rows (`LOG_FIELDS` + `_line`, `_reject`) to staged usage_events."""
    unreadable, rows = split_unreadable(frame)
    rows = with_counts(rows, {"input_tokens": pl.col("req_units"), "output_tokens": pl.col("res_units")})
    model = blank_to_null(pl.col("ai_model"))
    org_model = model.str.extract_groups(r"^([A-Za-z0-9\-_.]+)__(.+)$")
    rows = rows.with_columns(
        blank_to_null(pl.col("created_at")).alias("_ts_text"),
        blank_to_null(pl.col("metadata")).alias("_metadata"),
        pl.coalesce(org_model.struct.field("2"), model).alias("_model"),
        pl.coalesce(blank_to_null(pl.col("ai_org")), org_model.struct.field("1")).alias("_org"),
    ).with_columns(parse_utc(pl.col("_ts_text")).alias("ts"))
    rows = rows.with_columns(metadata_labels(rows["_metadata"]).alias("labels"))
    currency = blank_to_null(pl.col("cost_currency")).str.to_uppercase()
    failed = (truthy(pl.col("is_success")) == False).fill_null(False) | http_failed(pl.col("response_status_code"))  # noqa: E712
    reject = pl.coalesce(
        pl.when(pl.col("_ts_text").is_not_null() & pl.col("ts").is_null()).then(pl.lit("unparseable_timestamp")),
        pl.when(pl.col("_bad_count")).then(pl.lit("bad_token_count")),
        pl.when(bad_money(pl.col("cost"))).then(pl.lit("bad_reported_cost")),
    )
    staged = rows.select(
        blank_to_null(pl.col("id")).alias("event_id"),
        "ts",
        gateway_provider(pl.col("_org")).alias("provider"),
        pl.col("_model").alias("model"),
        pseudonymize(json_field(pl.col("_metadata"), "_user")).alias("user_hash"),
        "input_tokens",
        "output_tokens",
        pl.lit(1, pl.Int64).alias("requests"),
        ok_or_error(failed).alias("status"),
        blank_to_null(pl.col("response_time")).cast(pl.Float64, strict=False).round(0).cast(pl.Int64)
        .alias("latency_ms"),
        pl.when(currency.is_null() | (currency == "USD"))
        .then(scaled_money(pl.col("cost"), COST_DIVISOR))
        .alias("reported_cost_usd"),
        label_value(pl.col("labels"), TEAM_KEY).alias("gateway_team"),
        "labels",
        "_line",
        reject.alias("_reject"),
    )
    return staged_events(staged, unreadable)
