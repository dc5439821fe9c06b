"""OpenAI organization costs: Costs API pages and the dashboard cost CSV export -> billing_lines.

Traps handled here (shared ones in api_pages):
- `amount.value` is DOLLARS, a number in the spec but often a decimal string with 17 significant
  digits (`0.8958740000000000`): kept as its literal text, cast exactly by normalize, never a float;
- `amount.currency` is lowercase (`usd`) -> `USD`;
- `line_item` (null unless grouped) is free text: `[tier | ]model[ modality], token class[, ...]`,
  e.g. `gpt-4o-2024-08-06, cached input` -> model + token_type; kept verbatim as the sku;
- `quantity`/`quantity_unit` (2026-08 spec) may count in `1000_tokens` blocks: converted to tokens;
- negative amounts (credits, refunds) are kept as billed;
- buckets are Unix seconds, end exclusive; empty buckets read nothing, time-only CSV rows are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources import api_pages as ap
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import unparsed

SOURCE = "openai_costs"
TABLES = ("billing_lines",)
CSV_COLUMNS = {"start_time", "end_time", "amount_value", "amount_currency"}
LINE_ITEM = r"^(?:([^|,]+?) \| )?([^\s,|]+)(?: ([^,]+?))?, (.+)$"


def sniff(path: Path, head: bytes) -> bool:
    return ap.sniff_openai(
        path, head, json_marker=b"organization.costs.result", csv_columns=CSV_COLUMNS, kind="cost", other="usage"
    )


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    yield from ap.read_reports(
        path, source=SOURCE, table="billing_lines", stage=_stage_costs, kind="costs", chunk_rows=chunk_rows
    )


def token_type(line_item: pl.Expr) -> pl.Expr:
    """Token class of a line item ('cached input' -> cache_read); 'other' for non-token lines."""
    cls = line_item.str.extract(LINE_ITEM, 4).str.to_lowercase()
    return (
        pl.when(line_item.is_null())
        .then(pl.lit(None, pl.String))
        .when(cls.str.contains("cache") & cls.str.contains("write|creation"))
        .then(pl.lit("cache_write"))
        .when(cls.str.contains("cached|cache read"))
        .then(pl.lit("cache_read"))
        .when(cls.str.starts_with("input"))
        .then(pl.lit("input"))
        .when(cls.str.starts_with("output"))
        .then(pl.lit("output"))
        .otherwise(pl.lit("other"))
    )


def _stage_costs(rows: pl.DataFrame) -> pl.DataFrame:
    start, end, start_text = ap.openai_bucket(rows)
    amount = ap.field(rows, "amount_value")
    line_item = ap.field(rows, "line_item")
    quantity_text, unit = ap.field(rows, "quantity"), ap.field(rows, "quantity_unit")
    quantity = quantity_text.cast(pl.Decimal(38, 6), strict=False)
    per_thousand = unit == "1000_tokens"
    canonical = {
        "charge_period_start": start,
        "charge_period_end": end,
        "provider": pl.lit("openai"),
        "billing_account_id": ap.field(rows, "organization_id"),
        "sub_account_id": ap.field(rows, "project_id"),
        "service_name": pl.lit("OpenAI API"),
        "sku": line_item,
        "model": line_item.str.extract(LINE_ITEM, 2),
        "token_type": token_type(line_item),
        "consumed_quantity": pl.when(per_thousand).then(quantity * 1000).otherwise(quantity),
        "consumed_unit": pl.when(per_thousand).then(pl.lit("tokens")).otherwise(unit),
        "billed_cost": amount,
        "effective_cost": amount,
        "list_cost": amount,
        "billing_currency": ap.field(rows, "amount_currency").str.to_uppercase(),
        "tags": pl.lit("{}"),
        "line_id": ap.line_id(rows, start, end, ignore=("organization_name", "quantity_unit")),
    }
    rejects = [
        unparsed(start_text, start, "bad_charge_period_start"),
        unparsed(quantity_text, quantity, "bad_consumed_quantity"),
    ]
    return ap.stage(rows, canonical, rejects)
