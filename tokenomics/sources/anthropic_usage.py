"""Anthropic Admin API usage report (usage_report/messages pages) -> provider_usage.

Traps handled here (shared ones in api_pages):
- there is NO total input field: input_tokens = uncached_input_tokens + cache_read_input_tokens
  + cache_creation.ephemeral_5m_input_tokens + cache_creation.ephemeral_1h_input_tokens;
  cache_write_tokens = every cache_creation TTL present (a new TTL is not lost);
  server_tool_use counts requests, not tokens (ignored);
- the report has no request count: requests stays null and normalize stores 0 ("not reported");
- group-by fields (model, workspace_id, api_key_id, service_tier, context_window, inference_geo,
  speed, ...) are null unless grouped; a null workspace_id on a page grouped by workspace is the
  default workspace -> sub_account_id 'default' (null when the page was not grouped by workspace);
- service_tier 'batch' -> is_batch; buckets are RFC 3339 strings, end exclusive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources import api_pages as ap
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import parse_count, parse_timestamp, unparsed
from tokenomics.sources.text import is_json_head

SOURCE = "anthropic_usage"
TABLES = ("provider_usage",)
TOKEN_FIELDS = {
    "uncached": "uncached_input_tokens",
    "cache_read": "cache_read_input_tokens",
    "output": "output_tokens",
}
# every cache-write TTL: ephemeral_5m / ephemeral_1h today, any new one tomorrow (and the flat
# cache_creation_5m_input_tokens spelling of some third-party schemas)
CACHE_WRITE = re.compile(r"^cache_creation_\w+_input_tokens$")


def sniff(path: Path, head: bytes) -> bool:
    return is_json_head(head) and all(ap.has_json_key(head, k) for k in ("starting_at", "uncached_input_tokens"))


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    yield from ap.read_reports(
        path, source=SOURCE, table="provider_usage", stage=_stage_usage, csv=False, chunk_rows=chunk_rows
    )


def _stage_usage(rows: pl.DataFrame) -> pl.DataFrame:
    start_text = ap.field(rows, "starting_at")
    start, end = parse_timestamp(start_text), parse_timestamp(ap.field(rows, "ending_at"))
    names = {**TOKEN_FIELDS, **{c: c for c in rows.columns if CACHE_WRITE.match(c)}}
    text = {part: ap.field(rows, name) for part, name in names.items()}
    n = {part: parse_count(value) for part, value in text.items()}
    writes = [n[c].fill_null(0) for c in names if CACHE_WRITE.match(c)]
    cache_write = pl.sum_horizontal(writes) if writes else pl.lit(0, pl.Int64)
    tier = ap.field(rows, "service_tier")
    canonical = {
        "day": start.dt.date(),
        "provider": pl.lit("anthropic"),
        "sub_account_id": ap.workspace_or_default(rows),
        "api_key_id": ap.field(rows, "api_key_id"),
        "model": ap.field(rows, "model"),
        "service_tier": tier,
        "is_batch": tier == "batch",
        "requests": pl.lit(None, pl.Int64),
        "input_tokens": n["uncached"].fill_null(0) + n["cache_read"].fill_null(0) + cache_write,
        "cache_read_tokens": n["cache_read"],
        "cache_write_tokens": cache_write,
        "output_tokens": n["output"],
        "line_id": ap.line_id(rows, start, end),
    }
    rejects = [unparsed(start_text, start, "bad_day")]
    rejects += [unparsed(text[part], n[part], f"bad_{name}") for part, name in names.items()]
    return ap.stage(rows, canonical, rejects)
