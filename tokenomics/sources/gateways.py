"""Steps every gateway request-log reader shares (LiteLLM, Helicone, Portkey, Cloudflare, Langfuse, OpenRouter).

A gateway reader reads its records as text (`text.iter_text_rows`), names its count texts, its
timestamp text and its canonical columns, and hands them to `stage_usage`, which does the rest the
same way for every gateway: skip the rows that never reached a provider, parse the counts
(`bad_token_count`) and the timestamp (`unparseable_timestamp`) with `tokenomics.sources.parse`,
and carry the lines the JSON reader could not read through to quarantine. The small mappings the
gateways share (provider spellings, HTTP status, labels from a metadata object, the team hint among
them, vendor/model names) live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import polars as pl

from tokenomics.model_key import MODEL_FAMILIES
from tokenomics.providers import normalize_provider
from tokenomics.sources.labels import json_object_labels
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import parse_money, parse_timestamp, text_or_null, unparsed, with_counts
from tokenomics.sources.text import iter_text_rows

TEAM_KEY = r"(?i)^(team|team[_\-. ]?(id|name|alias))$"
"""Metadata / custom property keys taken as the gateway's team hint."""

UNPARSEABLE_TIMESTAMP = unparsed(pl.col("_ts_text"), pl.col("ts"), "unparseable_timestamp")
BAD_TOKEN_COUNT = pl.when(pl.col("_bad_count")).then(pl.lit("bad_token_count"))
ROW_REJECTS = (UNPARSEABLE_TIMESTAMP, BAD_TOKEN_COUNT)
"""The reasons `stage_usage` checks, first match wins; a reader adds its own before or after them."""


def read_logs(
    path: Path | str,
    *,
    source: str,
    fields: dict[str, pl.DataType],
    stage: Callable[[pl.DataFrame], Staged],
    chunk_rows: int,
    envelope: str | None = None,
) -> Iterator[Staged]:
    """Staged chunks of one gateway export: its text rows (`text.iter_text_rows`) through `stage`."""
    for frame in iter_text_rows(Path(path), source=source, fields=fields, envelope=envelope, chunk_rows=chunk_rows):
        yield stage(frame)


def stage_usage(
    frame: pl.DataFrame,
    *,
    counts: dict[str, pl.Expr],
    timestamp: pl.Expr,
    columns: dict[str, pl.Expr],
    rejects: Sequence[pl.Expr] = ROW_REJECTS,
    skip: pl.Expr | None = None,
    skipped: int = 0,
) -> Staged:
    """Staged usage_events from text rows (`_line`, `_reject` and the reader's own text fields).

    `skip` is true for rows that never reached a provider (gateway cache hits): counted as skipped,
    on top of `skipped` rows the reader already left out. `counts` name integer columns parsed from
    text; `timestamp` is the text of the event time (parsed into `ts`); `columns` are the canonical
    columns, computed after both (they may use the counts and `ts`); `rejects` the reasons in order.
    Rows the JSON reader already rejected keep their `_reject`.
    """
    unreadable = frame.filter(pl.col("_reject").is_not_null()).select("_line", "_reject")
    rows = frame.filter(pl.col("_reject").is_null())
    if skip is not None:
        skipping = skip.fill_null(False)
        skipped += rows.select(skipping.sum()).item()
        rows = rows.filter(~skipping)
    rows = with_counts(rows, counts).with_columns(text_or_null(timestamp).alias("_ts_text"))
    rows = rows.with_columns(parse_timestamp(pl.col("_ts_text")).alias("ts"))
    staged = rows.select(
        pl.col("ts"),
        *(expr.alias(name) for name, expr in columns.items()),
        pl.col("_line"),
        pl.coalesce(*rejects).alias("_reject"),
    )
    return Staged("usage_events", pl.concat([staged, unreadable], how="diagonal_relaxed"), skipped=skipped)


def bad_money(text: pl.Expr, reason: str = "bad_reported_cost") -> pl.Expr:
    """`reason` where money text is present but is not a number."""
    return unparsed(text, parse_money(text), reason)


# ---------------------------------------------------------------- providers and models


def gateway_provider(raw: pl.Expr) -> pl.Expr:
    """Canonical provider from a gateway's provider name (case and dashes as the gateway writes them)."""
    return normalize_provider(text_or_null(raw).fill_null(""))


def vendor_provider(model: pl.Expr) -> pl.Expr:
    """Canonical provider from "vendor/model" (the vendor) or, for a bare name, from the model family."""
    name = text_or_null(model).str.to_lowercase()
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
    return text_or_null(model).str.to_lowercase().str.extract(r"^([a-z0-9_.\-]+)/")


def bare_model(model: pl.Expr) -> pl.Expr:
    """The model without its "vendor/" prefix: "anthropic/claude-sonnet-4" -> "claude-sonnet-4"."""
    return text_or_null(model).str.replace(r"^[A-Za-z0-9_.\-]+/", "")


# ---------------------------------------------------------------- status and latency


def http_failed(code_text: pl.Expr) -> pl.Expr:
    """True for an HTTP status >= 400 or a negative sentinel (request never completed); False otherwise."""
    code = text_or_null(code_text).cast(pl.Float64, strict=False)
    return ((code >= 400) | (code < 0)).fill_null(False)


def ok_or_error(failed: pl.Expr) -> pl.Expr:
    return pl.when(failed).then(pl.lit("error")).otherwise(pl.lit("ok"))


def milliseconds(text: pl.Expr) -> pl.Expr:
    """Whole milliseconds from a millisecond text ("812", "812.4"); null when not a number."""
    return text_or_null(text).cast(pl.Float64, strict=False).round(0).cast(pl.Int64)


def seconds_to_ms(text: pl.Expr) -> pl.Expr:
    """Milliseconds (rounded) from a seconds text such as "1.234"; null when not a non-negative number."""
    seconds = text_or_null(text).cast(pl.Float64, strict=False)
    return pl.when(seconds >= 0).then((seconds * 1000).round(0).cast(pl.Int64))


# ---------------------------------------------------------------- labels


def metadata_labels(texts: pl.Series, strip_prefix: str | None = None) -> pl.Series:
    """LABELS from JSON-object texts (string values under harmless keys), key prefix removed (case-insensitive)."""
    labels = json_object_labels(texts)
    if not strip_prefix:
        return labels
    key = pl.element().struct.field("key").str.replace(f"(?i)^{strip_prefix}", "")
    return (
        pl.DataFrame({"l": labels})
        .select(pl.col("l").list.eval(pl.element().struct.with_fields(key.alias("key"))))["l"]
        .rename(labels.name)
    )


def label_value(labels: pl.Expr, key_pattern: str) -> pl.Expr:
    """Value of the first label whose key matches `key_pattern` (null when none does)."""
    el = pl.element()
    return labels.list.eval(
        el.filter(el.struct.field("key").str.contains(key_pattern)).struct.field("value")
    ).list.first()


def json_field(texts: pl.Expr, name: str) -> pl.Expr:
    """One top-level string/number field of JSON-object text (e.g. Portkey metadata `_user`)."""
    return texts.str.json_path_match(f"$.{name}")
