"""Steps shared by the per-request gateway readers (Langfuse, OpenRouter): read text rows, split vendor/model, stage.

A reader maps its own field names to count texts and canonical column expressions; this module does the
rest the same way for every gateway: JSON-or-CSV dispatch, integer counts with `bad_token_count`,
timestamps (naive means UTC) with `unparseable_timestamp`, provider from a "vendor/model" name, and the
already-rejected lines (malformed JSON) carried through to quarantine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.model_key import MODEL_FAMILIES
from tokenomics.providers import normalize_provider
from tokenomics.sources.gateway_exports import iter_text_rows
from tokenomics.sources.jsonio import blank_to_null, with_counts
from tokenomics.sources.litellm import parse_timestamp
from tokenomics.sources.normalize import Staged


def text_chunks(path: Path, *, source: str, schema: dict[str, pl.DataType], chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Text rows of a JSON-lines/JSON document or a CSV export, with every `schema` column, `_line`, `_reject`."""
    yield from iter_text_rows(path, source=source, fields=schema, envelope=None, chunk_rows=chunk_rows)


def vendor_provider(model: pl.Expr) -> pl.Expr:
    """Canonical provider from "vendor/model" (the vendor) or, for a bare name, from the model family."""
    name = blank_to_null(model).str.to_lowercase()
    vendor = name.str.extract(r"^([a-z0-9_.\-]+)/")
    family = pl.lit(None, pl.String)
    for pattern, provider in reversed(MODEL_FAMILIES):
        family = pl.when(name.str.contains(pattern)).then(pl.lit(provider)).otherwise(family)
    return normalize_provider(pl.coalesce(vendor, family).fill_null(""))


def model_vendor(model: pl.Expr) -> pl.Expr:
    """The "vendor/" prefix of a model name as spelled, lowercased ("meta-llama"); null for a bare name.

    Kept verbatim rather than mapped to a canonical provider: a reseller sells models of vendors
    that have no provider of their own here, and folding them into 'other' loses who made them.
    """
    return blank_to_null(model).str.to_lowercase().str.extract(r"^([a-z0-9_.\-]+)/")


def bare_model(model: pl.Expr) -> pl.Expr:
    """The model without its "vendor/" prefix: "anthropic/claude-sonnet-4" -> "claude-sonnet-4"."""
    return blank_to_null(model).str.replace(r"^[A-Za-z0-9_.\-]+/", "")


def stage_usage(
    frame: pl.DataFrame,
    *,
    counts: dict[str, pl.Expr],
    timestamp: pl.Expr,
    columns: dict[str, pl.Expr],
    skipped: int = 0,
) -> Staged:
    """Staged usage_events from text rows.

    `counts` name integer columns parsed from text (a non-integer -> `bad_token_count`); `timestamp` is
    the text of the event time; `columns` are the canonical columns, computed after the counts (they may
    use them and the parsed `ts`). Rows the JSON reader already rejected keep their `_reject`.
    """
    unreadable = frame.filter(pl.col("_reject").is_not_null()).select("_line", "_reject")
    rows = with_counts(frame.filter(pl.col("_reject").is_null()), counts)
    rows = rows.with_columns(blank_to_null(timestamp).alias("_ts_text"))
    rows = rows.with_columns(parse_timestamp(pl.col("_ts_text")).alias("ts"))
    reject = pl.coalesce(
        pl.when(pl.col("_ts_text").is_not_null() & pl.col("ts").is_null()).then(pl.lit("unparseable_timestamp")),
        pl.when(pl.col("_bad_count")).then(pl.lit("bad_token_count")),
    )
    staged = rows.select(
        pl.col("ts"),
        *(expr.alias(name) for name, expr in columns.items()),
        pl.col("_line"),
        reject.alias("_reject"),
    )
    return Staged("usage_events", pl.concat([staged, unreadable], how="diagonal_relaxed"), skipped=skipped)


def seconds_to_ms(text: pl.Expr) -> pl.Expr:
    """Milliseconds (rounded) from a seconds text such as "1.234"; null when not a non-negative number."""
    seconds = blank_to_null(text).cast(pl.Float64, strict=False)
    return pl.when(seconds >= 0).then((seconds * 1000).round(0).cast(pl.Int64))
