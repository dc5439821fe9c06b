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
from tokenomics.sources import gateways as gw
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import parse_bool, parse_money, text_or_null
from tokenomics.sources.text import names_fields

SOURCE = "portkey"
TABLES = ("usage_events",)

LOG_FIELDS: dict[str, pl.DataType] = {
    name: pl.String()
    for name in (
        "id",
        "trace_id",
        "created_at",
        "is_success",
        "ai_org",
        "ai_model",
        "req_units",
        "res_units",
        "cost",
        "cost_currency",
        "response_time",
        "response_status_code",
        "metadata",
    )
}
"""Fields read from a Portkey log; `request`/`response` bodies and the rest are never parsed."""

COST_DIVISOR = 100
"""Assumed: Portkey `cost` is in cents (unverified, formats.md section 12)."""


def sniff(path: Path, head: bytes) -> bool:
    """A Portkey log names ai_model and created_at, plus ai_org or req_units (JSON keys or CSV header)."""
    signatures = (("ai_model", "created_at", "ai_org"), ("ai_model", "created_at", "req_units"))
    return any(names_fields(head, json_keys=names, csv_columns=names) for names in signatures)


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one Portkey logs export."""
    yield from gw.read_logs(
        path, source=SOURCE, fields=LOG_FIELDS, stage=stage_logs, envelope="data", chunk_rows=chunk_rows
    )


def stage_logs(frame: pl.DataFrame) -> Staged:
    """Map text Portkey rows (`LOG_FIELDS` + `_line`, `_reject`) to staged usage_events."""
    model = text_or_null(pl.col("ai_model"))
    org_model = model.str.extract_groups(r"^([A-Za-z0-9\-_.]+)__(.+)$")
    frame = frame.with_columns(
        text_or_null(pl.col("metadata")).alias("_metadata"),
        gw.metadata_labels(frame["metadata"]).alias("_labels"),
    )
    currency = text_or_null(pl.col("cost_currency")).str.to_uppercase()
    failed = parse_bool(pl.col("is_success")).not_().fill_null(False) | gw.http_failed(pl.col("response_status_code"))
    return gw.stage_usage(
        frame,
        counts={"input_tokens": pl.col("req_units"), "output_tokens": pl.col("res_units")},
        timestamp=pl.col("created_at"),
        rejects=(*gw.ROW_REJECTS, gw.bad_money(pl.col("cost"))),
        columns={
            "event_id": text_or_null(pl.col("id")),
            "provider": gw.gateway_provider(pl.coalesce(text_or_null(pl.col("ai_org")), org_model.struct.field("1"))),
            "model": pl.coalesce(org_model.struct.field("2"), model),
            "user_hash": pseudonymize(gw.json_field(pl.col("_metadata"), "_user")),
            "input_tokens": pl.col("input_tokens"),
            "output_tokens": pl.col("output_tokens"),
            "status": gw.ok_or_error(failed),
            "latency_ms": gw.milliseconds(pl.col("response_time")),
            "reported_cost_usd": pl.when(currency.is_null() | (currency == "USD")).then(
                parse_money(pl.col("cost"), COST_DIVISOR)
            ),
            "gateway_team": gw.label_value(pl.col("_labels"), gw.TEAM_KEY),
            "labels": pl.col("_labels"),
        },
    )
