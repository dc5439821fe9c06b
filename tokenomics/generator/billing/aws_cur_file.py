"""AWS CUR 2.0 (Data Exports) daily Parquet for the main payer (formats.md section 3).

Bedrock lines among EC2, S3, CloudWatch and data-transfer lines: Amazon Nova under product code
`AmazonBedrock` (usage types `USE1-NovaPro-input-tokens`, priced per '1K tokens', so the usage
amount is in thousands), Claude through AWS Marketplace (`bill_billing_entity` 'AWS Marketplace', a
random product code, usage types `USE1-MP:USE1_InputTokenCount-Units`, priced per token, product name
`Claude 3.5 Sonnet (Amazon Bedrock Edition)`). A daily promotional credit on first-party Bedrock is a
negative `Credit` line. Costs are rounded to 8 decimals, then stored as doubles; rates are strings.
`product` and `resource_tags` are Parquet maps (tag keys `user_<key>`).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tokenomics.generator.billing.ledger import Ledger
from tokenomics.generator.billing.other_services import AWS_OTHER
from tokenomics.generator.billing.usage import Group, money, plain

PAYER = ("123456789012", "acme-payer")
ACCOUNTS = {"111122223333": ("data-platform-prod", "data-platform"), "444455556666": ("legal-ai-prod", "legal-ai")}
MARKETPLACE_CODE = "5hz8kpd0mqq3w7v1e9t2xcy4a"
PLACES = 8
CREDIT_SHARE = Decimal("0.05")  # promotional credit on first-party Bedrock usage

# model key -> (product code, product name, pricing unit, tokens per pricing unit, usage type per token kind)
BEDROCK = {
    "bedrock-nova-pro": (
        "AmazonBedrock",
        "Amazon Bedrock",
        "1K tokens",
        1000,
        {
            "input": "USE1-NovaPro-input-tokens",
            "output": "USE1-NovaPro-output-tokens",
            "cache_read": "USE1-NovaPro-cache-read-input-token-count",
            "cache_write": "USE1-NovaPro-cache-write-input-token-count",
        },
    ),
    "bedrock-claude-3-5-sonnet": (
        MARKETPLACE_CODE,
        "Claude 3.5 Sonnet (Amazon Bedrock Edition)",
        "Units",
        1,
        {
            "input": "USE1-MP:USE1_InputTokenCount-Units",
            "output": "USE1-MP:USE1_OutputTokenCount-Units",
            "cache_read": "USE1-MP:USE1_CacheReadInputTokenCount-Units",
            "cache_write": "USE1-MP:USE1_CacheWriteInputTokenCount-Units",
        },
    ),
}

_S = pa.string()
_TS = pa.timestamp("ms")
_MAP = pa.map_(pa.string(), pa.string())
SCHEMA = pa.schema(
    [
        ("bill_bill_type", _S),
        ("bill_billing_entity", _S),
        ("bill_billing_period_end_date", _TS),
        ("bill_billing_period_start_date", _TS),
        ("bill_invoice_id", _S),
        ("bill_invoicing_entity", _S),
        ("bill_payer_account_id", _S),
        ("bill_payer_account_name", _S),
        ("cost_category", _MAP),
        ("discount_total_discount", pa.float64()),
        ("identity_line_item_id", _S),
        ("identity_time_interval", _S),
        ("line_item_availability_zone", _S),
        ("line_item_blended_cost", pa.float64()),
        ("line_item_blended_rate", _S),
        ("line_item_currency_code", _S),
        ("line_item_legal_entity", _S),
        ("line_item_line_item_description", _S),
        ("line_item_line_item_type", _S),
        ("line_item_net_unblended_cost", pa.float64()),
        ("line_item_net_unblended_rate", _S),
        ("line_item_operation", _S),
        ("line_item_product_code", _S),
        ("line_item_resource_id", _S),
        ("line_item_unblended_cost", pa.float64()),
        ("line_item_unblended_rate", _S),
        ("line_item_usage_account_id", _S),
        ("line_item_usage_account_name", _S),
        ("line_item_usage_amount", pa.float64()),
        ("line_item_usage_end_date", _TS),
        ("line_item_usage_start_date", _TS),
        ("line_item_usage_type", _S),
        ("pricing_currency", _S),
        ("pricing_public_on_demand_cost", pa.float64()),
        ("pricing_public_on_demand_rate", _S),
        ("pricing_term", _S),
        ("pricing_unit", _S),
        ("product", _MAP),
        ("product_product_family", _S),
        ("product_region_code", _S),
        ("product_servicecode", _S),
        ("resource_tags", _MAP),
    ]
)


def _line_id(*parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return base64.b32encode(digest).decode().lower().rstrip("=")[:52]


def _row(
    day: date,
    account: str,
    *,
    entity: str,
    product_code: str,
    usage_type: str,
    operation: str,
    line_type: str,
    description: str,
    amount: Decimal,
    unit: str,
    rate: Decimal,
    cost: Decimal,
    list_cost: Decimal,
    product_name: str,
    family: str,
    team: str | None,
) -> dict:
    start = datetime.combine(day, time(0))
    period = date(day.year, day.month, 1)
    next_period = (period + timedelta(days=32)).replace(day=1)
    name, _ = ACCOUNTS[account]
    return {
        "bill_bill_type": "Anniversary",
        "bill_billing_entity": entity,
        "bill_billing_period_end_date": datetime.combine(next_period, time(0)),
        "bill_billing_period_start_date": datetime.combine(period, time(0)),
        "bill_invoice_id": None,
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_payer_account_id": PAYER[0],
        "bill_payer_account_name": PAYER[1],
        "cost_category": [],
        "discount_total_discount": 0.0,
        "identity_line_item_id": _line_id(str(day), account, usage_type, line_type),
        "identity_time_interval": f"{day}T00:00:00Z/{day + timedelta(days=1)}T00:00:00Z",
        "line_item_availability_zone": None,
        "line_item_blended_cost": float(cost),
        "line_item_blended_rate": plain(rate),
        "line_item_currency_code": "USD",
        "line_item_legal_entity": "Amazon Web Services, Inc.",
        "line_item_line_item_description": description,
        "line_item_line_item_type": line_type,
        "line_item_net_unblended_cost": float(cost),
        "line_item_net_unblended_rate": plain(rate),
        "line_item_operation": operation,
        "line_item_product_code": product_code,
        "line_item_resource_id": None,
        "line_item_unblended_cost": float(cost),
        "line_item_unblended_rate": plain(rate),
        "line_item_usage_account_id": account,
        "line_item_usage_account_name": name,
        "line_item_usage_amount": float(amount),
        "line_item_usage_end_date": start + timedelta(days=1),
        "line_item_usage_start_date": start,
        "line_item_usage_type": usage_type,
        "pricing_currency": "USD",
        "pricing_public_on_demand_cost": float(list_cost),
        "pricing_public_on_demand_rate": plain(rate),
        "pricing_term": "OnDemand" if line_type == "Usage" else None,
        "pricing_unit": unit,
        "product": [("product_name", product_name), ("region", "us-east-1"), ("servicecode", product_code)],
        "product_product_family": family,
        "product_region_code": "us-east-1",
        "product_servicecode": product_code,
        "resource_tags": [("user_team", team)] if team else [],
    }


def _bedrock_rows(g: Group, ledger: Ledger) -> tuple[list[dict], Decimal]:
    """Usage lines of one Bedrock group; returns them and their first-party cost (what credits cover)."""
    code, product_name, unit, per_unit, usage_types = BEDROCK[g.model_key]
    marketplace = code != "AmazonBedrock"
    rows, first_party = [], Decimal(0)
    for kind, tokens, price in g.priced():
        amount = Decimal(tokens) / per_unit
        rate = price * per_unit
        cost = money(tokens * price, PLACES)
        verb = "input" if kind in ("input", "cache_read", "cache_write") else "output"
        rows.append(
            _row(
                g.day,
                g.account,
                entity="AWS Marketplace" if marketplace else "AWS",
                product_code=code,
                usage_type=usage_types[kind],
                operation="InvokeModelInference",
                line_type="Usage",
                description=f"{product_name} {kind.replace('_', ' ')} tokens ({verb})",
                amount=amount,
                unit=unit,
                rate=rate,
                cost=cost,
                list_cost=cost,
                product_name=product_name,
                family="Amazon Bedrock" if not marketplace else "Marketplace",
                team=ACCOUNTS[g.account][1],
            )
        )
        ledger.charge(g.day, "aws_bedrock", cost, tokens * price)
        if not marketplace:
            first_party += cost
    return rows, first_party


def write_aws_cur(groups: list[Group], days: list[date], landing: Path, seed: int, ledger: Ledger) -> list[Path]:
    """One CUR 2.0 Parquet per day for the main payer (the subsidiary's Bedrock goes to FOCUS)."""
    written = []
    for index, day in enumerate(days):
        rng = np.random.default_rng([seed, 3, index])
        rows = []
        first_party = {account: Decimal(0) for account in ACCOUNTS}
        for g in groups:
            if g.day == day and g.account in ACCOUNTS:
                more, fp = _bedrock_rows(g, ledger)
                rows += more
                first_party[g.account] += fp
        for account, covered in first_party.items():
            if covered > 0:
                credit = -money(covered * CREDIT_SHARE, PLACES)
                rows.append(
                    _row(
                        day,
                        account,
                        entity="AWS",
                        product_code="AmazonBedrock",
                        usage_type="",
                        operation="",
                        line_type="Credit",
                        description="AWS Activate Credits - Amazon Bedrock",
                        amount=Decimal(0),
                        unit="",
                        rate=Decimal(0),
                        cost=credit,
                        list_cost=Decimal(0),
                        product_name="Amazon Bedrock",
                        family="",
                        team=None,
                    )
                )
                ledger.credit(day, "aws_bedrock", credit)
            for svc in AWS_OTHER:
                amount = svc.quantity(rng)
                cost = money(amount * svc.rate, PLACES)
                rows.append(
                    _row(
                        day,
                        account,
                        entity="AWS",
                        product_code=svc.service,
                        usage_type=svc.sku,
                        operation=svc.detail("operation"),
                        line_type="Usage",
                        description=f"{svc.detail('product_name')} {svc.sku}",
                        amount=amount,
                        unit=svc.unit,
                        rate=svc.rate,
                        cost=cost,
                        list_cost=cost,
                        product_name=svc.detail("product_name"),
                        family=svc.detail("family"),
                        team=ACCOUNTS[account][1],
                    )
                )
        path = landing / "aws_cur" / str(day) / f"acme-cur2-{day}-00001.snappy.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path, compression="snappy")
        written.append(path)
    return written
