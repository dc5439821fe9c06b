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
- the result `object` is not validated strictly (the 2024-12 spec example spells it `orgainzation`);
- audio tokens changed meaning with the 2026-07 spec, see `_modalities`: a row that carries any of the
  2026 split fields (`input_text_tokens`, `input_uncached_tokens`, `output_text_tokens`) counts every
  modality in `input_tokens`/`output_tokens` and `input_audio_tokens` is uncached audio (cached
  audio sits inside `input_cached_tokens`); an older row counts only *text* in
  `input_tokens`/`output_tokens`, with `input_audio_tokens` (cached included) and
  `output_audio_tokens` beside them, so they are added in. Either way the canonical input/output are
  all modalities and input_audio_tokens/output_audio_tokens say how many of them are audio, for
  pricing at audio rates (legacy cached audio cannot be told apart and counts as uncached audio).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources import api_pages as ap
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import count_text, parse_bool, parse_count, unparsed

SOURCE = "openai_usage"
TABLES = ("provider_usage",)
CSV_COLUMNS = {"start_time", "end_time", "num_model_requests", "input_tokens", "output_tokens"}


def sniff(path: Path, head: bytes) -> bool:
    # completions are read; other usage endpoints are counted as skipped
    return ap.sniff_openai(
        path, head, json_marker=b"organization.usage.", csv_columns=CSV_COLUMNS, kind="usage", other="cost"
    )


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    yield from ap.read_reports(
        path, source=SOURCE, table="provider_usage", stage=_stage_usage, kind="completions", chunk_rows=chunk_rows
    )


def _stage_usage(rows: pl.DataFrame) -> pl.DataFrame:
    start, end, start_text = ap.openai_bucket(rows)
    batch = ap.field(rows, "batch")
    tokens = {
        "requests": "num_model_requests",
        "cache_read_tokens": "input_cached_tokens",
        "cache_write_tokens": "input_cache_write_tokens",
    }
    canonical = {
        "day": start.dt.date(),
        "provider": pl.lit("openai"),
        "sub_account_id": ap.field(rows, "project_id"),
        "api_key_id": ap.field(rows, "api_key_id"),
        "model": ap.field(rows, "model"),
        "service_tier": ap.field(rows, "service_tier"),
        "is_batch": parse_bool(batch),
        **{name: count_text(ap.field(rows, raw)) for name, raw in tokens.items()},
        **_modalities(rows),
        # not in the 2026-08 spec; read if a later version adds it
        "reasoning_tokens": count_text(ap.field(rows, "output_reasoning_tokens", "reasoning_tokens")),
        "line_id": ap.line_id(rows, start, end),
    }
    rejects = [
        unparsed(start_text, start, "bad_day"),
        unparsed(batch, parse_bool(batch), "bad_is_batch"),
    ]
    return ap.stage(rows, canonical, rejects)


def _modalities(rows: pl.DataFrame) -> dict[str, pl.Expr]:
    """input/output tokens over all modalities and their audio subsets, under the row's spec version.

    Counts stay text (normalize casts them and quarantines a bad one as bad_<column>); a legacy sum
    is only computed when both of its terms are integers.
    """

    def text(name: str) -> pl.Expr:
        return count_text(ap.field(rows, name))

    def plus_audio(total: str, audio: str) -> pl.Expr:
        number = parse_count(ap.field(rows, total))
        summed = (number + parse_count(ap.field(rows, audio)).fill_null(0)).cast(pl.String)
        return pl.when(all_modalities | number.is_null()).then(text(total)).otherwise(summed)

    all_modalities = pl.any_horizontal(
        ap.field(rows, name).is_not_null()
        for name in ("input_text_tokens", "input_uncached_tokens", "output_text_tokens")
    )
    return {
        "input_tokens": plus_audio("input_tokens", "input_audio_tokens"),
        "output_tokens": plus_audio("output_tokens", "output_audio_tokens"),
        "input_audio_tokens": text("input_audio_tokens"),
        "output_audio_tokens": text("output_audio_tokens"),
    }
