"""FinOps FOCUS reader (1.0 to 1.3, CSV or Parquet): the AI and Machine Learning lines of any FOCUS export.

Traps handled (formats.md section 6):
- Kept: ServiceCategory 'AI and Machine Learning', plus lines whose service names a known model
  service (an AWS export may file Marketplace Claude under another category).
- ProviderName (1.0-1.2) is ServiceProviderName in 1.3; with ServiceName it maps to the canonical
  provider: Microsoft + Azure OpenAI -> azure_openai, AWS + Bedrock -> aws_bedrock, Google Cloud +
  Vertex AI -> gcp_vertex (Gemini API -> google_ai), OpenAI -> openai, Anthropic -> anthropic.
- The sku is the provider's own meter: AWS `x_UsageType`, else `SkuMeter`, Microsoft
  `x_SkuMeterName`, else `ChargeDescription`, else `SkuId`; parsed with that cloud's SKU rules.
- ConsumedQuantity/ConsumedUnit are conditional: PricingQuantity/PricingUnit ('1000 Tokens') stand
  in when they are missing. Costs are BilledCost, EffectiveCost, ListCost as exact decimal text.
- Timestamps: ISO with `Z`, the sample data's `2024-09-18 22:00:00`, the spec examples' US `5/1/25`;
  ChargePeriodEnd is exclusive. CSV hygiene: BOM, `NULL`, quoted numerics; `x_` columns tolerated.
- No line id in FOCUS: line_id is a hash of the row as read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.providers import PROVIDER_ALIASES
from tokenomics.sources import cloud_bills as cb
from tokenomics.sources.normalize import Staged

SOURCE = "focus"
TABLES = ("billing_lines",)

AI_CATEGORY = r"^AI and Machine Learning$"
AI_SERVICE = r"Bedrock|OpenAI|Vertex AI|Gemini|Foundry|Anthropic|Claude"
PROVIDER = ("ServiceProviderName", "ProviderName")
REQUIRED = [(name,) for name in ("ChargePeriodStart", "BilledCost", "BillingCurrency", "ServiceName")]
SKU_PARSER = {"aws_bedrock": "bedrock", "azure_openai": "azure"}


def sniff(path: Path, head: bytes) -> bool:
    return cb.header_has(Path(path), head, "BilledCost", "ChargePeriodStart")


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    yield from cb.read_bill(
        Path(path), source=SOURCE, required=REQUIRED, keep=_is_ai, stage=_stage, chunk_rows=chunk_rows
    )


def _is_ai(raw: pl.DataFrame, cols: cb.Columns) -> pl.Expr:
    return cb.contains(cb.text(raw, cols.get("ServiceCategory")), AI_CATEGORY) | cb.contains(
        cb.text(raw, cols.get("ServiceName")), AI_SERVICE
    )


def canonical_provider(provider: str | None, service: str | None, publisher: str | None) -> str:
    """The canonical provider of a FOCUS line from who provides it and which service it is."""
    who = (provider or publisher or "").strip().lower()
    what = f"{service or ''} {publisher or ''}".lower()
    if "microsoft" in who or "azure" in who:
        azure_ai = ("openai", "foundry", "cognitive", "ai services", "models")
        return "azure_openai" if any(k in what for k in azure_ai) else "other"
    if "aws" in who or "amazon" in who:
        return "aws_bedrock" if "bedrock" in what or "claude" in what else "other"
    if "google" in who or "gcp" in who:
        if "gemini api" in what or "generative language" in what:
            return "google_ai"
        return "gcp_vertex" if "vertex" in what or "gemini" in what else "other"
    if "openai" in who:
        return "openai"
    if "anthropic" in who:
        return "anthropic"
    first_word = who.split(" ")[0]  # "Mistral AI" -> mistral
    return PROVIDER_ALIASES.get(who, PROVIDER_ALIASES.get(first_word, "other"))


def _stage(raw: pl.DataFrame, cols: cb.Columns) -> pl.DataFrame:
    def field(*names: str) -> pl.Expr:
        return cb.text(raw, cols.get(*names))

    def money(name: str) -> pl.Expr:
        return cb.money_text(raw, cols.get(name))

    tags = cols.get("Tags")
    tag_pairs = None if tags is None or raw.schema[tags] == pl.String else pl.col(tags)
    has_consumed = field("ConsumedQuantity").is_not_null()
    staged = raw.select(
        cb.utc_timestamp(raw, cols.get("ChargePeriodStart")).alias("charge_period_start"),
        cb.utc_timestamp(raw, cols.get("ChargePeriodEnd")).alias("charge_period_end"),
        field(*PROVIDER).alias("_provider_name"),
        field("PublisherName").alias("_publisher"),
        field("BillingAccountId").alias("billing_account_id"),
        field("SubAccountId").alias("sub_account_id"),
        field("ServiceName").alias("service_name"),
        field("x_UsageType").alias("_usage_type"),
        pl.coalesce(field("SkuMeter"), field("x_SkuMeterName")).alias("_meter"),
        pl.coalesce(field("ChargeDescription"), field("SkuId")).alias("_description"),
        pl.when(has_consumed).then(money("ConsumedQuantity")).otherwise(money("PricingQuantity")).alias("_quantity"),
        pl.when(has_consumed).then(field("ConsumedUnit")).otherwise(field("PricingUnit")).alias("_unit"),
        money("BilledCost").alias("billed_cost"),
        pl.coalesce(money("EffectiveCost"), money("BilledCost")).alias("effective_cost"),
        money("ListCost").alias("list_cost"),
        field("BillingCurrency").str.to_uppercase().alias("billing_currency"),
        (field("Tags") if tag_pairs is None else cb.tags_from_pairs(tag_pairs)).alias(
            "_tags_text" if tag_pairs is None else "tags"
        ),
        cb.content_hash(raw, [c for c in raw.columns if c != "_line"]).alias("line_id"),
        field("ChargePeriodStart").alias("_start_raw"),
        field("ChargePeriodEnd").alias("_end_raw"),
        "_line",
    )
    staged = _with_provider(staged)
    provider = pl.col("provider")
    staged = staged.with_columns(
        pl.when(provider == "aws_bedrock")
        .then(pl.coalesce("_usage_type", "_meter", "_description"))
        .otherwise(pl.coalesce("_meter", "_usage_type", "_description"))
        .alias("sku"),
        pl.col("service_name").alias("_hint"),
        provider.replace_strict(SKU_PARSER, default="described", return_dtype=pl.String).alias("_parser"),
    )
    return cb.complete(staged, None)


def _with_provider(staged: pl.DataFrame) -> pl.DataFrame:
    """Add `provider`, deciding once per distinct (provider name, service, publisher)."""
    keys = ["_provider_name", "service_name", "_publisher"]
    rows = [(*k, canonical_provider(*k)) for k in staged.select(keys).unique().iter_rows()]
    lookup = pl.DataFrame(rows, schema={**dict.fromkeys(keys, pl.String), "provider": pl.String}, orient="row")
    return staged.join(lookup, on=keys, how="left", nulls_equal=True, maintain_order="left")
