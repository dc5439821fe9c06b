"""Anthropic Admin API cost report (cost_report pages) -> billing_lines.

Traps handled here (shared ones in api_pages):
- `amount` is a decimal STRING in CENTS (the currency's lowest unit): "123.45" = $1.2345,
  converted exactly (decimal arithmetic, never a float);
- `currency` is carried (upper-cased; documented as always "USD" today);
- token_type uses dotted names (`cache_creation.ephemeral_5m_input_tokens`) -> input, output,
  cache_read, cache_write; non-token costs (web_search, code_execution, session_usage) -> other;
- `description` (null unless grouped by description) is the sku; without it the sku is composed
  from cost_type / model / token_type so lines stay distinguishable;
- a null workspace_id on a page grouped by workspace is the default workspace ('default');
- negative amounts (credits) are kept as billed; Priority Tier costs never appear in this report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources import api_pages as ap
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import parse_money, parse_timestamp, unparsed
from tokenomics.sources.text import is_json_head

SOURCE = "anthropic_cost"
TABLES = ("billing_lines",)


def sniff(path: Path, head: bytes) -> bool:
    return (
        is_json_head(head)
        and all(ap.has_json_key(head, k) for k in ("starting_at", "cost_type", "amount"))
        and b"organization.costs.result" not in head
    )


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    yield from ap.read_reports(
        path, source=SOURCE, table="billing_lines", stage=_stage_cost, csv=False, chunk_rows=chunk_rows
    )


def token_type(raw: pl.Expr, cost_type: pl.Expr) -> pl.Expr:
    """Canonical token type of a cost line; 'other' for non-token costs, null when unknown."""
    return (
        pl.when(raw == "uncached_input_tokens")
        .then(pl.lit("input"))
        .when(raw == "output_tokens")
        .then(pl.lit("output"))
        .when(raw == "cache_read_input_tokens")
        .then(pl.lit("cache_read"))
        .when(raw.str.starts_with("cache_creation"))
        .then(pl.lit("cache_write"))
        .when(raw.is_not_null() | (cost_type.is_not_null() & (cost_type != "tokens")))
        .then(pl.lit("other"))
        .otherwise(pl.lit(None, pl.String))
    )


def _stage_cost(rows: pl.DataFrame) -> pl.DataFrame:
    start_text = ap.field(rows, "starting_at")
    start, end = parse_timestamp(start_text), parse_timestamp(ap.field(rows, "ending_at"))
    cents = ap.field(rows, "amount")
    dollars = parse_money(cents, divisor=100)
    cost_type, model, raw_type = ap.field(rows, "cost_type"), ap.field(rows, "model"), ap.field(rows, "token_type")
    composed = pl.concat_str([cost_type, model, raw_type], separator=", ", ignore_nulls=True)
    canonical = {
        "charge_period_start": start,
        "charge_period_end": end,
        "provider": pl.lit("anthropic"),
        "sub_account_id": ap.workspace_or_default(rows),
        "service_name": pl.lit("Anthropic API"),
        "sku": pl.coalesce(ap.field(rows, "description"), pl.when(composed != "").then(composed)),
        "model": model,
        "token_type": token_type(raw_type, cost_type),
        "billed_cost": dollars,
        "effective_cost": dollars,
        "list_cost": dollars,
        "billing_currency": ap.field(rows, "currency").str.to_uppercase(),
        "tags": pl.lit("{}"),
        "line_id": ap.line_id(rows, start, end),
    }
    rejects = [
        unparsed(start_text, start, "bad_charge_period_start"),
        unparsed(cents, dollars, "bad_billed_cost"),
    ]
    return ap.stage(rows, canonical, rejects)
