"""AWS Cost and Usage Report reader: the Amazon Bedrock lines of CUR 2.0 (CSV, Parquet) and legacy CUR.

Traps handled (formats.md section 3):
- Legacy CUR spells columns `lineItem/UsageType` and adds one `resourceTags/user:<key>` column per
  activated tag (the schema drifts month to month); CUR 2.0 spells `line_item_usage_type` and keeps
  tags in a `resource_tags` map (`user_` prefix), a Parquet map or JSON text in CSV. Both map to the
  same columns here; tag keys lose their `user:`/`user_` prefix so the two agree.
- Claude and other third-party models are billed through AWS Marketplace under a random product
  code, with usage types like `USW2-MP:USW2_InputTokenCount-Units`: a Bedrock line is recognized by
  product code, product name (`Claude 3 Haiku (Amazon Bedrock Edition)`) or a token usage type.
- Credits and refunds are negative lines of the same service: kept as they are.
- `line_item_usage_amount` is in `pricing_unit`s: a '1K tokens' unit is converted to tokens.
- `identity_line_item_id` is unique only within one time interval: line_id = id/interval.
- effective_cost: the Savings Plan or reservation effective cost on covered lines, else the net
  unblended cost (after discounts), else the unblended cost. list_cost: public on-demand cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources import cloud_bills as cb
from tokenomics.sources.normalize import Staged

SOURCE = "aws_cur"
TABLES = ("billing_lines",)

REQUIRED = [
    (name,)
    for name in (
        "line_item_usage_start_date",
        "line_item_usage_type",
        "line_item_unblended_cost",
        "line_item_currency_code",
    )
]
"""Columns a CUR cannot be read without (checked before any row is read)."""
TOKEN_USAGE = r"(input|output)[-_]?token|cache[-_]?(read|write)"


def sniff(path: Path, head: bytes) -> bool:
    return cb.header_has(Path(path), head, "line_item_usage_type", "line_item_unblended_cost")


def read(path: Path, chunk_rows: int = 200_000) -> Iterator[Staged]:
    yield from cb.read_bill(
        Path(path), source=SOURCE, required=REQUIRED, keep=_is_bedrock, stage=_stage, chunk_rows=chunk_rows
    )


def _product_field(raw: pl.DataFrame, cols: cb.Columns, key: str, flat: str) -> pl.Expr:
    """A product attribute: CUR 2.0 `product` map (Parquet map or CSV JSON) or a legacy flat column."""
    expr = cb.text(raw, cols.get(flat))
    product = cols.get("product")
    if product is None:
        return expr
    if raw.schema[product] == pl.String:
        return pl.coalesce(expr, pl.col(product).str.json_path_match(f"$.{key}"))
    el = pl.element()
    pairs = pl.col(product).list.eval(el.filter(el.struct.field("key") == key).struct.field("value"))
    return pl.coalesce(expr, pairs.list.first())


def _is_bedrock(raw: pl.DataFrame, cols: cb.Columns) -> pl.Expr:
    code = cb.text(raw, cols.get("line_item_product_code"))
    return (
        cb.contains(code, "^AmazonBedrock")
        | cb.contains(cb.text(raw, cols.get("product_servicecode")), "Bedrock")
        | cb.contains(_product_field(raw, cols, "product_name", "product_product_name"), "Bedrock")
        | cb.contains(cb.text(raw, cols.get("line_item_usage_type")), TOKEN_USAGE)
    )


def _tags(raw: pl.DataFrame, cols: cb.Columns) -> pl.Expr:
    """CUR 2.0 `resource_tags` as a Parquet map, or legacy CUR's one column per tag."""
    mapped = cols.get("resource_tags")
    if mapped is not None:
        return cb.tags_from_pairs(pl.col(mapped), strip_prefix="user_")
    legacy = {_tag_key(name): name for name in cols.starting_with("resource_tags_")}
    return cb.tags_from_columns(legacy)


def _tag_key(column: str) -> str:
    """`resourceTags/user:team` or `resource_tags_user_team` -> `team`; AWS tags keep their `aws:` prefix."""
    key = column.split("/", 1)[1] if "/" in column else column[len("resource_tags_") :]
    return key.removeprefix("user:").removeprefix("user_")


def _line_id(raw: pl.DataFrame, cols: cb.Columns) -> pl.Expr | pl.Series:
    line_item = cols.get("identity_line_item_id")
    if line_item is None:
        return cb.content_hash(raw, [c for c in raw.columns if c != "_line"])
    interval = pl.coalesce(
        cb.text(raw, cols.get("identity_time_interval")), cb.text(raw, cols.get("line_item_usage_start_date"))
    )
    return pl.concat_str(cb.text(raw, line_item), pl.lit("/"), interval.fill_null(""))


def _stage(raw: pl.DataFrame, cols: cb.Columns) -> pl.DataFrame:
    def money(name: str) -> pl.Expr:
        return cb.money_text(raw, cols.get(name))

    end_column = cols.get("line_item_usage_end_date")
    interval_end = cb.text(raw, cols.get("identity_time_interval")).str.split("/").list.get(1, null_on_oob=True)
    line_type = cb.text(raw, cols.get("line_item_line_item_type"))
    product_name = _product_field(raw, cols, "product_name", "product_product_name")
    tags_column = cols.get("resource_tags")
    tags_text = pl.col(tags_column) if tags_column is not None and raw.schema[tags_column] == pl.String else None
    staged = raw.select(
        cb.utc_timestamp(raw, cols.get("line_item_usage_start_date")).alias("charge_period_start"),
        pl.coalesce(cb.utc_timestamp(raw, end_column), cb.parse_utc(interval_end)).alias("charge_period_end"),
        pl.lit("aws_bedrock").alias("provider"),
        cb.text(raw, cols.get("bill_payer_account_id")).alias("billing_account_id"),
        cb.text(raw, cols.get("line_item_usage_account_id")).alias("sub_account_id"),
        pl.coalesce(product_name, cb.text(raw, cols.get("line_item_product_code"))).alias("service_name"),
        cb.text(raw, cols.get("line_item_usage_type")).alias("sku"),
        product_name.alias("_hint"),
        money("line_item_usage_amount").alias("_quantity"),
        cb.text(raw, cols.get("pricing_unit")).alias("_unit"),
        money("line_item_unblended_cost").alias("billed_cost"),
        pl.coalesce(
            pl.when(line_type == "SavingsPlanCoveredUsage").then(money("savings_plan_savings_plan_effective_cost")),
            pl.when(line_type == "DiscountedUsage").then(money("reservation_effective_cost")),
            money("line_item_net_unblended_cost"),
            money("line_item_unblended_cost"),
        ).alias("effective_cost"),
        money("pricing_public_on_demand_cost").alias("list_cost"),
        cb.text(raw, cols.get("line_item_currency_code")).str.to_uppercase().alias("billing_currency"),
        (_tags(raw, cols) if tags_text is None else tags_text).alias("tags" if tags_text is None else "_tags_text"),
        _line_id(raw, cols).alias("line_id"),
        cb.text(raw, cols.get("line_item_usage_start_date")).alias("_start_raw"),
        pl.coalesce(cb.text(raw, end_column), interval_end).alias("_end_raw"),
        "_line",
    )
    return cb.complete(staged, "bedrock", tag_prefix="user_")
