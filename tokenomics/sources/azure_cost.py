"""Azure Cost Management export reader: the Azure OpenAI and Foundry Models lines of EA and MCA exports.

Traps handled (formats.md section 4):
- EA spells `MeterCategory`, `Cost`, `BillingCurrency`; MCA `meterCategory`, `costInBillingCurrency`,
  `billingCurrency` (casing varies by export version): columns are found by name, ignoring case.
- `Quantity` counts `UnitOfMeasure` blocks: 1250.337 with '1K' is 1,250,337 tokens ('1M', '10K' too).
- Meter names are abbreviated and inconsistent (`gpt-4o-0806-Inp-glbl 1K`, `gpt 4o 1120 cached Inp
  glbl Tokens`): parsed by cloud_skus.azure_sku; `MeterId` (GUID) is the stable key, kept as the
  prefix of line_id (`<MeterId>:<hash of the row>`), since exports have no line id of their own.
- `Date` is MM/DD/YYYY and inclusive: a daily row for 08/31/2025 covers [2025-08-31, 2025-09-01).
  An export without `Date` falls back to the billing period, whose end date is inclusive too.
- `Tags` is JSON without its outer braces, CSV-escaped: `"team": "search","env": "prod"`.
- Files start with a UTF-8 BOM; refunds and credits are negative lines, kept as they are.
- Azure OpenAI moved from MeterCategory `Cognitive Services` to `Foundry Models`: both are kept,
  plus any meter whose subcategory, product or service names Azure OpenAI.
- effective_cost: an amortized cost column when the export has one, else the billed cost.
  list_cost: `paygCostInBillingCurrency`, else `PayGPrice` x `Quantity` (both per block).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources import cloud_bills as cb
from tokenomics.sources.normalize import Staged

SOURCE = "azure_cost"
TABLES = ("billing_lines",)

AI_CATEGORY = r"^(Foundry Models|Azure OpenAI)"
AI_NAME = r"OpenAI|Foundry|\bAzure \w+ Models\b"
AI_SERVICES_CATEGORY = r"Cognitive Services|Foundry|AI Services"

COST = ("CostInBillingCurrency", "Cost", "PreTaxCost")
CURRENCY = ("BillingCurrency", "BillingCurrencyCode", "Currency")


REQUIRED = [
    ("Date", "UsageDate", "BillingPeriodStartDate"),
    ("MeterCategory",),
    ("MeterName",),
    ("Quantity",),
    ("UnitOfMeasure",),
    COST,
    CURRENCY,
]
"""Columns an export cannot be read without: a usage date (or a billing period, in a monthly export)."""


def sniff(path: Path, head: bytes) -> bool:
    columns = cb.file_columns(Path(path), head)
    return (
        cb.has_keys(columns, "MeterCategory", "MeterName", "Quantity")
        and any(cb.has_keys(columns, c) for c in COST)
        and not cb.has_keys(columns, "BilledCost")
    )


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    yield from cb.read_bill(
        Path(path), source=SOURCE, required=REQUIRED, keep=_is_ai_meter, stage=_stage, chunk_rows=chunk_rows
    )


def _field(raw: pl.DataFrame, cols: cb.Columns, *names: str) -> pl.Expr:
    return cb.text(raw, cols.get(*names))


def _is_ai_meter(raw: pl.DataFrame, cols: cb.Columns) -> pl.Expr:
    category = _field(raw, cols, "MeterCategory")
    return (
        cb.contains(category, AI_CATEGORY)
        | cb.contains(_field(raw, cols, "MeterSubCategory"), AI_NAME)
        | cb.contains(_field(raw, cols, "ServiceName"), AI_NAME)
        | cb.contains(_field(raw, cols, "ProductName", "Product"), AI_NAME)
        | (cb.contains(category, AI_SERVICES_CATEGORY) & cb.contains(_field(raw, cols, "MeterName"), r"\btokens?\b"))
    )


def _line_id(raw: pl.DataFrame, meter_id: pl.Expr) -> pl.Expr:
    """`<MeterId>:<hash of the row>`: exports carry no line id, and the meter is the stable key."""
    digest = pl.lit(cb.content_hash(raw, [c for c in raw.columns if c != "_line"]))
    return pl.when(meter_id.is_not_null()).then(pl.concat_str(meter_id, pl.lit(":"), digest)).otherwise(digest)


def _stage(raw: pl.DataFrame, cols: cb.Columns) -> pl.DataFrame:
    def field(*names: str) -> pl.Expr:
        return _field(raw, cols, *names)

    def money(*names: str) -> pl.Expr:
        return cb.money_text(raw, cols.get(*names))

    day = cb.utc_timestamp(raw, cols.get("Date", "UsageDate"))
    period_start = cb.utc_timestamp(raw, cols.get("BillingPeriodStartDate"))
    period_end = cb.utc_timestamp(raw, cols.get("BillingPeriodEndDate"))
    list_from_price = (cb.decimal(raw, cols.get("PayGPrice")) * cb.decimal(raw, cols.get("Quantity"))).cast(pl.String)
    staged = raw.select(
        pl.coalesce(day, period_start).alias("charge_period_start"),
        (pl.coalesce(day, period_end) + pl.duration(days=1)).alias("charge_period_end"),  # inclusive dates
        pl.lit("azure_openai").alias("provider"),
        field("BillingAccountId", "EnrollmentNumber").alias("billing_account_id"),
        field("SubscriptionId", "SubscriptionGuid").alias("sub_account_id"),
        pl.coalesce(field("ServiceName"), field("MeterSubCategory"), field("MeterCategory")).alias("service_name"),
        field("MeterName").alias("sku"),
        money("Quantity").alias("_quantity"),
        field("UnitOfMeasure").alias("_unit"),
        money(*COST).alias("billed_cost"),
        pl.coalesce(money("AmortizedCostInBillingCurrency", "AmortizedCost"), money(*COST)).alias("effective_cost"),
        pl.coalesce(money("PaygCostInBillingCurrency"), list_from_price).alias("list_cost"),
        field(*CURRENCY).str.to_uppercase().alias("billing_currency"),
        field("Tags").alias("_tags_text"),
        _line_id(raw, field("MeterId")).alias("line_id"),
        pl.coalesce(field("Date", "UsageDate"), field("BillingPeriodStartDate")).alias("_start_raw"),
        pl.coalesce(field("Date", "UsageDate"), field("BillingPeriodEndDate")).alias("_end_raw"),
        "_line",
    )
    return cb.complete(staged, "azure")
