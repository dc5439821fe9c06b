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

from tokenomics.sources import gateways as gw
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import parse_bool, parse_money, text_or_null
from tokenomics.sources.text import names_fields

SOURCE = "cloudflare"
TABLES = ("usage_events",)

LOG_FIELDS: dict[str, pl.DataType] = {
    name: pl.String()
    for name in (
        "id",
        "created_at",
        "provider",
        "model",
        "tokens_in",
        "tokens_out",
        "cost",
        "success",
        "cached",
        "status_code",
        "duration",
        "metadata",
    )
}
"""Fields read from a gateway log; everything else (request/response heads included) is never parsed."""


def sniff(path: Path, head: bytes) -> bool:
    """A gateway log (JSON only) names tokens_in, tokens_out and created_at."""
    return names_fields(head, json_keys=("tokens_in", "tokens_out", "created_at"))


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one AI Gateway logs file."""
    yield from gw.read_logs(
        path, source=SOURCE, fields=LOG_FIELDS, stage=stage_logs, envelope="result", chunk_rows=chunk_rows
    )


def stage_logs(frame: pl.DataFrame) -> Staged:
    """Map text gateway-log rows (`LOG_FIELDS` + `_line`, `_reject`) to staged usage_events."""
    frame = frame.with_columns(gw.metadata_labels(frame["metadata"]).alias("_labels"))
    failed = (parse_bool(pl.col("success")) == False).fill_null(False) | gw.http_failed(pl.col("status_code"))  # noqa: E712
    return gw.stage_usage(
        frame,
        skip=parse_bool(pl.col("cached")),
        counts={"input_tokens": pl.col("tokens_in"), "output_tokens": pl.col("tokens_out")},
        timestamp=pl.col("created_at"),
        rejects=(*gw.ROW_REJECTS, gw.bad_money(pl.col("cost"))),
        columns={
            "event_id": text_or_null(pl.col("id")),
            "provider": gw.gateway_provider(pl.col("provider")),
            "model": text_or_null(pl.col("model")),
            "input_tokens": pl.col("input_tokens"),
            "output_tokens": pl.col("output_tokens"),
            "status": gw.ok_or_error(failed),
            "latency_ms": gw.milliseconds(pl.col("duration")),
            "reported_cost_usd": parse_money(pl.col("cost")),
            "gateway_team": gw.label_value(pl.col("_labels"), gw.TEAM_KEY),
            "labels": pl.col("_labels"),
        },
    )
