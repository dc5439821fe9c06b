"""OpenAI organization usage (completions): Usage API pages and the dashboard CSV export -> provider_usage.

Traps handled here (shared ones in api_pages):
- buckets are Unix seconds, end exclusive; day = UTC date of the bucket start (1d, 1h or 1m buckets);
- `input_tokens` already INCLUDES cached reads and, since the 2026-07 spec, cache writes
  (input = cached + cache_write + uncached), so it maps straight onto the inclusive canonical column;
  `input_cached_tokens` -> cache_read_tokens, `input_cache_write_tokens` (2026+) -> cache_write_tokens;
- group-by fields (project_id, api_key_id, model, batch, service_tier) are null unless grouped;
- the CSV writes counters as floats (`59200.0`) and booleans as `FALSE`; days without usage are
  rows with only the time columns (read, skipped) or a header-only file (nothing read);
- results of other usage endpoints (embeddings, images, ...) found in the file are read and skipped;
- the result `object` is not validated strictly (the 2024-12 spec example spells it `orgainzation`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources import api_pages as ap
from tokenomics.sources.csvio import has_columns
from tokenomics.sources.normalize import Staged

SOURCE = "openai_usage"
TABLES = ("provider_usage",)
CSV_COLUMNS = {"start_time", "end_time", "num_model_requests", "input_tokens", "output_tokens"}


def sniff(path: Path, head: bytes) -> bool:
    if ap.is_json(head):
        return b"organization.usage." in head  # completions are read; other usage endpoints are counted as skipped
    return has_columns(head, CSV_COLUMNS) or ap.time_only_csv(head, path, "usage", "cost")


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    for rows in ap.read_report_rows(path, source=SOURCE, chunk_rows=chunk_rows):
        rows, skipped = ap.split_unread(rows, kind="completions")
        yield Staged("provider_usage", _stage_usage(rows), skipped)


def _stage_usage(rows: pl.DataFrame) -> pl.DataFrame:
    start_text = ap.field(rows, "start_time")
    start = pl.coalesce(ap.unix_seconds(start_text), ap.rfc3339(ap.field(rows, "start_time_iso")))
    end = pl.coalesce(ap.unix_seconds(ap.field(rows, "end_time")), ap.rfc3339(ap.field(rows, "end_time_iso")))
    batch = ap.field(rows, "batch")
    tokens = {
        "requests": "num_model_requests",
        "input_tokens": "input_tokens",
        "cache_read_tokens": "input_cached_tokens",
        "cache_write_tokens": "input_cache_write_tokens",
        "output_tokens": "output_tokens",
    }
    canonical = {
        "day": start.dt.date(),
        "provider": pl.lit("openai"),
        "sub_account_id": ap.field(rows, "project_id"),
        "api_key_id": ap.field(rows, "api_key_id"),
        "model": ap.field(rows, "model"),
        "service_tier": ap.field(rows, "service_tier"),
        "is_batch": ap.flag(batch),
        **{name: ap.count_text(ap.field(rows, raw)) for name, raw in tokens.items()},
        # not in the 2026-08 spec; read if a later version adds it
        "reasoning_tokens": ap.count_text(ap.field(rows, "output_reasoning_tokens", "reasoning_tokens")),
        "line_id": ap.line_id(rows, start, end),
    }
    rejects = [
        ap.unparsed(pl.coalesce(start_text, ap.field(rows, "start_time_iso")), start, "bad_day"),
        ap.unparsed(batch, ap.flag(batch), "bad_is_batch"),
    ]
    return ap.stage(rows, canonical, rejects)
