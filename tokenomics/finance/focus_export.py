"""Export allocated costs as a FinOps FOCUS 1.2 file (CSV and Parquet) that FinOps tools can take in.

Each allocation_daily row becomes:
- direct usage lines, one per token type (x_TokenType input, cache_read, cache_write, output),
  ChargeCategory 'Usage': the row's direct cost split by tokens x unit price of the model that day
  (tokenomics.pricing.unit_prices), cents made exact per row by largest remainder; one 'all' line
  when no price is known;
- one 'Adjustment' line for the row's allocated share of the residual (x_CostKind
  'allocated_residual'), since the residual mixes untracked usage, discounts and credits.

So BilledCost sums to total_cost_usd, i.e. to the bills. SubAccountId is the team (the cost centre
this file charges; the provider's own projects are not kept at allocation grain), Tags carry team
and feature, and LLM details sit in x_ columns as FOCUS requires for custom columns.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from tokenomics.finance.allocation import largest_remainder
from tokenomics.schema import MONEY, Schema

FOCUS_VERSION = "1.2"
CENTS = pl.Decimal(38, 2)
QUANTITY = pl.Decimal(38, 6)

PROVIDER_NAMES: dict[str, tuple[str, str]] = {
    # canonical provider: (ProviderName, ServiceName)
    "openai": ("OpenAI", "OpenAI API"),
    "anthropic": ("Anthropic", "Anthropic API"),
    "aws_bedrock": ("AWS", "Amazon Bedrock"),
    "azure_openai": ("Microsoft", "Azure OpenAI"),
    "gcp_vertex": ("Google Cloud", "Vertex AI"),
    "google_ai": ("Google", "Gemini API"),
    "mistral": ("Mistral AI", "Mistral API"),
    "cohere": ("Cohere", "Cohere API"),
    "deepseek": ("DeepSeek", "DeepSeek API"),
    "groq": ("Groq", "GroqCloud"),
    "xai": ("xAI", "xAI API"),
    "openrouter": ("OpenRouter", "OpenRouter"),
}

TOKEN_TYPES = ("input", "cache_read", "cache_write", "output")

FOCUS_COLUMNS = [
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingCurrency",
    "BillingAccountId",
    "BillingAccountName",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceName",
    "ServiceCategory",
    "ServiceSubcategory",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_Provider",
    "x_CostKind",
    "x_TokenType",
    "x_Model",
    "x_PriceRef",
    "x_AllocationMethod",
    "x_AllocationBasis",
    "x_Feature",
    "x_FocusVersion",
]

UnitPriceLookup = Callable[[str, str, date], object | None]


def focus_frame(
    allocation: pl.DataFrame,
    *,
    unit_prices: UnitPriceLookup | None = None,
    billing_accounts: dict[str, str] | None = None,
) -> pl.DataFrame:
    """FOCUS 1.2 rows for allocation_daily rows (with token columns and price_refs when present).

    unit_prices(provider, model, day) returns an object with per-million `input`, `output`,
    `cache_read`, `cache_write` or None; default: tokenomics.pricing.unit_prices with the default
    price configuration. billing_accounts maps a provider to its BillingAccountId (default: the
    provider name).
    """
    rows = _with_defaults(allocation).with_row_index("_row")
    usage = _direct_lines(rows, unit_prices or _catalog_prices)
    residual = rows.filter(pl.col("allocated_cost_usd") != 0).with_columns(
        pl.col("allocated_cost_usd").alias("cost"),
        pl.lit("allocated_residual").alias("x_CostKind"),
        pl.lit(None, pl.String).alias("x_TokenType"),
        pl.lit(None, pl.Int64).alias("quantity"),
    )
    lines = pl.concat([usage, residual], how="diagonal_relaxed").sort(
        "_row", pl.col("x_CostKind") != "direct", "_type_order", nulls_last=True
    )
    return _focus_columns(lines, billing_accounts or {})


def write_focus(
    allocation: pl.DataFrame,
    out_dir: Path,
    stem: str = "focus_allocated_costs",
    **options,
) -> list[Path]:
    """Write <stem>.csv and <stem>.parquet (FOCUS 1.2) under out_dir; returns both paths."""
    frame = focus_frame(allocation, **options)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv, parquet = out_dir / f"{stem}.csv", out_dir / f"{stem}.parquet"
    frame.write_csv(csv, datetime_format="%Y-%m-%dT%H:%M:%SZ")
    frame.write_parquet(parquet, compression="zstd")
    return [csv, parquet]


# --------------------------------------------------------------------------------------------
# direct usage split by token type


def _with_defaults(allocation: pl.DataFrame) -> pl.DataFrame:
    missing = {
        "model": pl.String,
        "price_refs": pl.String,
        "input_tokens": pl.Int64,
        "cache_read_tokens": pl.Int64,
        "cache_write_tokens": pl.Int64,
        "output_tokens": pl.Int64,
        "allocation_basis": pl.String,
    }
    return allocation.with_columns(
        *[pl.lit(None, dtype).alias(name) for name, dtype in missing.items() if name not in allocation.columns]
    )


def _catalog_prices(provider: str, model: str, day: date):
    from tokenomics.pricing import unit_prices

    return unit_prices(provider, model, day)


def _price_table(rows: pl.DataFrame, lookup: UnitPriceLookup) -> pl.DataFrame:
    """Per-million prices per distinct (provider, model, day) of the usage rows (one lookup each)."""
    keys = rows.filter(pl.col("model").is_not_null()).select("provider", "model", "day").unique()
    records = []
    for provider, model, day in keys.iter_rows():
        found = lookup(provider, model, day)
        if found is not None:
            records.append(
                {
                    "provider": provider,
                    "model": model,
                    "day": day,
                    **{f"p_{t}": Decimal(getattr(found, t)) for t in TOKEN_TYPES},
                }
            )
    schema: Schema = {
        "provider": pl.String,
        "model": pl.String,
        "day": pl.Date,
        **{f"p_{t}": MONEY for t in TOKEN_TYPES},
    }
    return pl.DataFrame(records, schema=schema, orient="row") if records else pl.DataFrame(schema=schema)


def _direct_lines(rows: pl.DataFrame, lookup: UnitPriceLookup) -> pl.DataFrame:
    """Direct cost lines: split by token type where prices are known, else one 'all' line."""
    usage = rows.filter((pl.col("direct_cost_usd") != 0) | (pl.col("model").is_not_null()))
    usage = usage.join(_price_table(usage, lookup), on=["provider", "model", "day"], how="left")
    tokens = {
        "input": (
            pl.col("input_tokens").fill_null(0)
            - pl.col("cache_read_tokens").fill_null(0)
            - pl.col("cache_write_tokens").fill_null(0)
        ).clip(lower_bound=0),
        "cache_read": pl.col("cache_read_tokens").fill_null(0),
        "cache_write": pl.col("cache_write_tokens").fill_null(0),
        "output": pl.col("output_tokens").fill_null(0),
    }
    per_type = pl.concat(
        [
            usage.with_columns(
                pl.lit(t).alias("x_TokenType"),
                pl.lit(i).alias("_type_order"),
                tokens[t].alias("quantity"),
                (tokens[t].cast(MONEY) * pl.col(f"p_{t}")).alias("_weight"),
            )
            for i, t in enumerate(TOKEN_TYPES)
        ],
        how="vertical",
    )
    total_weight = pl.col("_weight").sum().over("_row")
    per_type = per_type.filter(pl.col("_weight").is_not_null() & (total_weight > 0))
    split_rows = per_type["_row"].unique()
    per_type = per_type.filter(pl.col("quantity") > 0).with_columns(
        (pl.col("direct_cost_usd") * pl.col("_weight") / pl.col("_weight").sum().over("_row")).alias("_exact"),
        (pl.col("direct_cost_usd").cast(MONEY) * 100).cast(pl.Int64).alias("_target"),
    )
    per_type = largest_remainder(per_type, "_exact", "_target", pl.lit(True), "_cents", group=["_row"])
    split = per_type.with_columns((pl.col("_cents").cast(MONEY) / 100).alias("cost"))
    whole = usage.filter(~pl.col("_row").is_in(split_rows.implode())).with_columns(
        pl.lit("all").alias("x_TokenType"),
        pl.lit(0).alias("_type_order"),
        (pl.col("input_tokens").fill_null(0) + pl.col("output_tokens").fill_null(0)).alias("quantity"),
        pl.col("direct_cost_usd").alias("cost"),
    )
    return pl.concat([split, whole], how="diagonal_relaxed").with_columns(pl.lit("direct").alias("x_CostKind"))


# --------------------------------------------------------------------------------------------
# FOCUS columns


def _utc_midnight(day: pl.Expr) -> pl.Expr:
    return day.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _focus_columns(lines: pl.DataFrame, billing_accounts: dict[str, str]) -> pl.DataFrame:
    provider = pl.col("provider")
    names = {p: n[0] for p, n in PROVIDER_NAMES.items()}
    services = {p: n[1] for p, n in PROVIDER_NAMES.items()}
    provider_name = provider.replace_strict(names, default=provider, return_dtype=pl.String)
    start = _utc_midnight(pl.col("day"))
    month_start = _utc_midnight(pl.col("day").dt.month_start())
    is_direct = pl.col("x_CostKind") == "direct"
    cost = pl.col("cost").cast(CENTS)
    quantity = pl.when(is_direct).then(pl.col("quantity"))
    tags = pl.struct(pl.col("team"), pl.col("feature")).struct.json_encode()
    description = (
        pl.when(is_direct)
        .then(
            pl.concat_str(
                [
                    pl.col("model").fill_null("unknown model"),
                    pl.lit(" "),
                    pl.col("x_TokenType"),
                    pl.lit(" tokens (gateway-attributed usage)"),
                ]
            )
        )
        .otherwise(
            pl.concat_str(
                [
                    pl.lit("Share of the provider bill not attributed by the gateway (residual), allocation method "),
                    pl.col("allocation_method"),
                ]
            )
        )
    )
    account = provider.replace_strict(billing_accounts, default=provider, return_dtype=pl.String)
    return lines.select(
        cost.alias("BilledCost"),
        cost.alias("EffectiveCost"),
        pl.when(is_direct).then(cost).otherwise(pl.lit(Decimal(0), CENTS)).alias("ListCost"),
        cost.alias("ContractedCost"),
        pl.lit("USD").alias("BillingCurrency"),
        account.alias("BillingAccountId"),
        account.alias("BillingAccountName"),
        month_start.alias("BillingPeriodStart"),
        _utc_midnight(pl.col("day").dt.offset_by("1mo").dt.month_start()).alias("BillingPeriodEnd"),
        start.alias("ChargePeriodStart"),
        (start + pl.duration(days=1)).alias("ChargePeriodEnd"),
        pl.when(is_direct).then(pl.lit("Usage")).otherwise(pl.lit("Adjustment")).alias("ChargeCategory"),
        pl.lit(None, pl.String).alias("ChargeClass"),
        description.alias("ChargeDescription"),
        pl.lit("Usage-Based").alias("ChargeFrequency"),
        quantity.cast(QUANTITY).alias("ConsumedQuantity"),
        pl.when(is_direct).then(pl.lit("Tokens")).alias("ConsumedUnit"),
        (quantity.cast(QUANTITY) / pl.lit(Decimal(1_000_000), QUANTITY)).alias("PricingQuantity"),
        pl.when(is_direct).then(pl.lit("1M Tokens")).alias("PricingUnit"),
        provider_name.alias("ProviderName"),
        provider_name.alias("PublisherName"),
        provider_name.alias("InvoiceIssuerName"),
        provider.replace_strict(services, default=provider, return_dtype=pl.String).alias("ServiceName"),
        pl.lit("AI and Machine Learning").alias("ServiceCategory"),
        pl.lit("Generative AI").alias("ServiceSubcategory"),
        pl.col("team").alias("SubAccountId"),
        pl.col("team").alias("SubAccountName"),
        pl.lit("Team").alias("SubAccountType"),
        tags.alias("Tags"),
        provider.alias("x_Provider"),
        pl.col("x_CostKind"),
        pl.col("x_TokenType"),
        pl.col("model").alias("x_Model"),
        pl.when(is_direct).then(pl.col("price_refs")).alias("x_PriceRef"),
        pl.col("allocation_method").alias("x_AllocationMethod"),
        pl.col("allocation_basis").alias("x_AllocationBasis"),
        pl.col("feature").alias("x_Feature"),
        pl.lit(FOCUS_VERSION).alias("x_FocusVersion"),
    )
