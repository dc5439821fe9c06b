"""GCP Cloud Billing export reader: the Vertex AI and Gemini API lines, from JSONL, CSV or Parquet.

Traps handled (formats.md section 5):
- The same rows arrive as newline-delimited JSON (nested `service{id,description}`, `usage{...}`,
  `credits[...]`, `labels[...]`), Parquet (the same nesting) or CSV from a flattening query
  (`service.description` or `service_description`; credits and labels as JSON text).
- `cost` is before credits; credits are negative: effective_cost = cost + sum(credits.amount),
  added as exact decimals (JSON numbers are decoded as text, never through a float).
- Timestamps are `2025-09-01 10:00:00 UTC` in JSON, native in Parquet.
- Vertex request labels land in `labels` as a list of {key, value}: tags are their JSON object.
- Partner models (Claude on Vertex) may be billed as THIRD_PARTY transactions: kept when the SKU or
  seller names a model family; the Gemini API (AI Studio) is provider google_ai, Vertex gcp_vertex.
- Gemini 1.x SKUs bill characters, not tokens: consumed_unit 'characters'.
- No line id in the export: line_id is a hash of the row as read (the JSON line, or the CSV/Parquet
  row), so a re-delivered file deduplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.schema import MONEY
from tokenomics.sources import cloud_bills as cb
from tokenomics.sources.normalize import ReaderError, Staged

SOURCE = "gcp_billing"
TABLES = ("billing_lines",)

AI_SERVICE = r"Vertex AI|Gemini API|Generative Language"
GOOGLE_AI_SERVICE = r"Gemini API|Generative Language"
PARTNER_MODEL = r"claude|anthropic|llama|mistral|codestral|jamba|ai21|gemma|deepseek|qwen|\btokens?\b"

_PAIRS = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
_CREDITS = pl.List(pl.Struct({"name": pl.String, "amount": pl.String, "type": pl.String, "id": pl.String}))
ROW = pl.Struct(
    {
        "billing_account_id": pl.String,
        "service": pl.Struct({"id": pl.String, "description": pl.String}),
        "sku": pl.Struct({"id": pl.String, "description": pl.String}),
        "usage_start_time": pl.String,
        "usage_end_time": pl.String,
        "project": pl.Struct({"id": pl.String, "number": pl.String, "name": pl.String}),
        "labels": _PAIRS,
        "cost": pl.String,
        "cost_at_list": pl.String,
        "currency": pl.String,
        "usage": pl.Struct(
            {"amount": pl.String, "unit": pl.String, "amount_in_pricing_units": pl.String, "pricing_unit": pl.String}
        ),
        "credits": _CREDITS,
        "transaction_type": pl.String,
        "seller_name": pl.String,
    }
)
"""The fields read from a JSON row; numbers are declared String so their digits stay exact."""

FIELDS = {
    "billing_account_id": "billing_account_id",
    "service_description": "service.description",
    "sku_description": "sku.description",
    "usage_start_time": "usage_start_time",
    "usage_end_time": "usage_end_time",
    "project_id": "project.id",
    "labels": "labels",
    "cost": "cost",
    "cost_at_list": "cost_at_list",
    "currency": "currency",
    "usage_amount": "usage.amount",
    "usage_unit": "usage.unit",
    "usage_amount_in_pricing_units": "usage.amount_in_pricing_units",
    "usage_pricing_unit": "usage.pricing_unit",
    "credits": "credits",
    "transaction_type": "transaction_type",
    "seller_name": "seller_name",
}
"""Flat name -> path in the nested export (a CSV spells it `service.description` or `service_description`)."""

JSON_WIDTH = 40
"""A JSON row holds about this many values once its nested records are decoded: sizes its chunks."""

REQUIRED = ("usage_start_time", "cost", "currency", "service_description", "sku_description")


def _is_jsonl(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def sniff(path: Path, head: bytes) -> bool:
    if _is_jsonl(head):
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
        return all(k in first for k in (b'"usage_start_time"', b'"sku"', b'"cost"'))
    columns = cb.file_columns(Path(path), head)
    if cb.has_keys(columns, "service", "sku", "cost", "usage_start_time"):  # nested Parquet
        return True
    return cb.has_keys(columns, "service.description", "sku.description", "cost", "usage_start_time")


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if _is_jsonl(head):
        frames = _iter_json_rows(path, chunk_rows)
    else:
        names = cb.bill_columns(path, SOURCE)
        if not names:
            return
        _check_required(names, path)
        frames = cb.iter_bill_frames(path, source=SOURCE, chunk_rows=chunk_rows)
    for raw in frames:
        flat = _flatten(raw)
        keep = (
            cb.contains(pl.col("service_description"), AI_SERVICE)
            | (cb.contains(pl.col("transaction_type"), "^THIRD_PARTY") & cb.contains(_names(), PARTNER_MODEL))
            | pl.col("_reject").is_not_null()  # a malformed JSON line is quarantined, not skipped
        )
        mask = flat.select(keep.fill_null(False)).to_series()
        kept = raw.filter(mask)
        hashed = ["_json"] if "_json" in kept.columns else [c for c in kept.columns if not c.startswith("_")]
        staged = flat.filter(mask).with_columns(cb.content_hash(kept, hashed).alias("line_id"))
        yield Staged(cb.TABLE, _stage(staged), skipped=raw.height - kept.height)


def _names() -> pl.Expr:
    return pl.concat_str("service_description", "sku_description", "seller_name", separator=" ", ignore_nulls=True)


def _check_required(names: list[str], path: Path) -> None:
    """A flat CSV needs `service.description` (or `service_description`); a nested file its `service`."""
    keys = {cb.column_key(n) for n in names}
    for flat in REQUIRED:
        top = FIELDS[flat].split(".")[0]
        if cb.column_key(FIELDS[flat]) not in keys and top not in keys:
            raise ReaderError(SOURCE, path, f"missing required column '{FIELDS[flat]}'", line=1)


def _iter_json_rows(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """JSON lines as rows of ROW's fields, plus `_json` (the line as read) and `_reject`."""
    lines = pl.scan_csv(
        path, has_header=False, separator="\x1f", quote_char=None, new_columns=["_json"],
        infer_schema=False, encoding="utf8",
    ).with_row_index("_line", offset=1)  # fmt: skip
    try:
        for batch in lines.collect_batches(chunk_size=cb.chunk_rows_for(JSON_WIDTH, chunk_rows)):
            batch = batch.with_columns(pl.col("_line").cast(pl.Int64), pl.col("_json").str.strip_chars())
            batch = batch.filter(pl.col("_json").is_not_null() & (pl.col("_json") != ""))  # blank lines
            if not batch.height:
                continue
            decoded, bad = cb.decode_json(batch.get_column("_json"), ROW)
            yield batch.with_columns(
                decoded.alias("_row"), pl.when(bad).then(pl.lit("malformed_json")).alias("_reject")
            ).unnest("_row")
    except pl.exceptions.ComputeError as exc:
        raise ReaderError(SOURCE, path, f"cannot read JSON lines: {str(exc).splitlines()[0]}") from exc


def _flatten(raw: pl.DataFrame) -> pl.DataFrame:
    """One column per FIELDS name, native types kept, whether the rows are nested (JSON, Parquet)
    or flat (CSV); plus `_line` and `_reject`."""
    cols = cb.Columns([c for c in raw.columns if not c.startswith("_")], source=SOURCE, path=Path())
    exprs = []
    for flat, dotted in FIELDS.items():
        top, _, leaf = dotted.partition(".")
        nested = cols.get(top) if leaf else None
        nested_type = raw.schema[nested] if nested is not None else None
        if nested is not None and isinstance(nested_type, pl.Struct):
            fields = {f.name for f in nested_type.fields}
            expr = pl.col(nested).struct.field(leaf) if leaf in fields else pl.lit(None, pl.String)
        elif (name := cols.get(dotted)) is not None:
            expr = pl.col(name)
        else:
            expr = pl.lit(None, pl.String)
        exprs.append(expr.alias(flat))
    reject = pl.col("_reject") if "_reject" in raw.columns else pl.lit(None, pl.String).alias("_reject")
    return raw.select(*exprs, "_line", reject)


def _with_credits(flat: pl.DataFrame) -> pl.DataFrame:
    """Add `_credits` (the exact sum of credit amounts) and `_bad_credits` (one is not a number).

    Nested exports carry a list of credits; a CSV cell holds their JSON array or an already summed amount.
    """
    if flat.schema["credits"] == pl.String:
        cell = pl.col("credits").str.strip_chars()
        summed = cell.cast(MONEY, strict=False)
        decoded, undecodable = cb.decode_json(flat.select(pl.when(summed.is_null()).then(cell)).to_series(), _CREDITS)
        flat = flat.with_columns(_summed=summed, credits=decoded, _undecodable=undecodable)
    else:
        credits = pl.col("credits") if isinstance(flat.schema["credits"], pl.List) else pl.lit(None, _CREDITS)
        flat = flat.with_columns(_summed=pl.lit(None, MONEY), credits=credits, _undecodable=pl.lit(False))
    amount = pl.element().struct.field("amount").cast(pl.String).str.strip_chars()
    not_a_number = pl.col("credits").list.eval(amount.is_not_null() & amount.cast(MONEY, strict=False).is_null())
    return flat.with_columns(
        pl.coalesce("_summed", pl.col("credits").list.eval(amount.cast(MONEY, strict=False)).list.sum()).alias(
            "_credits"
        ),
        pl.when(pl.col("_undecodable") | not_a_number.list.any().fill_null(False))
        .then(pl.lit("bad_credits"))
        .alias("_bad_credits"),
    )


def _stage(flat: pl.DataFrame) -> pl.DataFrame:
    flat = _with_credits(flat)
    labels_are_pairs = isinstance(flat.schema["labels"], pl.List)
    has_amount = cb.text(flat, "usage_amount").is_not_null()
    characters = cb.contains(cb.text(flat, "sku_description"), r"\bcharacters?\b")
    staged = flat.select(
        cb.utc_timestamp(flat, "usage_start_time").alias("charge_period_start"),
        cb.utc_timestamp(flat, "usage_end_time").alias("charge_period_end"),
        pl.when(cb.contains(cb.text(flat, "service_description"), GOOGLE_AI_SERVICE))
        .then(pl.lit("google_ai"))
        .otherwise(pl.lit("gcp_vertex"))
        .alias("provider"),
        cb.text(flat, "billing_account_id").alias("billing_account_id"),
        cb.text(flat, "project_id").alias("sub_account_id"),
        cb.text(flat, "service_description").alias("service_name"),
        cb.text(flat, "sku_description").alias("sku"),
        pl.when(has_amount)
        .then(cb.money_text(flat, "usage_amount"))
        .otherwise(cb.money_text(flat, "usage_amount_in_pricing_units"))
        .alias("_quantity"),
        pl.when(characters)
        .then(pl.lit("characters"))
        .when(has_amount)
        .then(cb.text(flat, "usage_unit"))
        .otherwise(cb.text(flat, "usage_pricing_unit"))
        .alias("_unit"),
        cb.money_text(flat, "cost").alias("billed_cost"),
        (cb.decimal(flat, "cost") + pl.col("_credits").fill_null(0)).cast(pl.String).alias("effective_cost"),
        cb.money_text(flat, "cost_at_list").alias("list_cost"),
        cb.text(flat, "currency").str.to_uppercase().alias("billing_currency"),
        cb.tags_from_pairs(pl.col("labels")).alias("tags")
        if labels_are_pairs
        else cb.text(flat, "labels").alias("_tags_text"),
        "line_id",
        cb.text(flat, "usage_start_time").alias("_start_raw"),
        cb.text(flat, "usage_end_time").alias("_end_raw"),
        "_bad_credits",
        "_reject",
        "_line",
    )
    return cb.complete(staged, "described", pl.col("_reject"), pl.col("_bad_credits"))
