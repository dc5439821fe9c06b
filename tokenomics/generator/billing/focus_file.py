"""FinOps FOCUS 1.2 CSV of the legal subsidiary's own AWS payer account (formats.md section 6).

The subsidiary (payer 777788889999) exports FOCUS instead of CUR, so its lines never appear in the
main payer's CUR: together the two files bill all Bedrock usage once. Its Bedrock lines are Claude
through AWS Marketplace (ServiceName is the Marketplace product, `Claude 3.5 Sonnet (Amazon Bedrock
Edition)`; ServiceCategory `AI and Machine Learning`, PublisherName `Anthropic`,
ConsumedQuantity in Tokens, PricingQuantity in `1000 Tokens`) among EC2 and S3 lines. Money has 10
decimals; ChargePeriodEnd is exclusive; Tags is a JSON object.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from tokenomics.generator.billing.csv_export import write_csv_export
from tokenomics.generator.billing.ledger import Ledger
from tokenomics.generator.billing.other_services import AWS_OTHER
from tokenomics.generator.billing.usage import Group, fixed, money, plain

ACCOUNT = ("777788889999", "acme-legal-gmbh")
PRODUCT = "Claude 3.5 Sonnet (Amazon Bedrock Edition)"
METER = {
    "input": ("Input Tokens", "InputTokenCount"),
    "output": ("Output Tokens", "OutputTokenCount"),
    "cache_read": ("Cache Read Input Tokens", "CacheReadInputTokenCount"),
    "cache_write": ("Cache Write Input Tokens", "CacheWriteInputTokenCount"),
}
PLACES = 10
COLUMNS = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_UsageType",
    "x_Operation",
    "x_ServiceCode",
)


def _iso(day: date) -> str:
    return f"{day}T00:00:00Z"


def _row(
    day: date,
    *,
    cost: Decimal,
    quantity: Decimal,
    unit: str,
    pricing_quantity: Decimal,
    pricing_unit: str,
    unit_price: Decimal,
    description: str,
    meter: str,
    service: str,
    category: str,
    subcategory: str,
    publisher: str,
    sku: str,
    usage_type: str,
    operation: str,
    code: str,
) -> dict:
    period = date(day.year, day.month, 1)
    money_text = fixed(cost, PLACES)
    return {
        "AvailabilityZone": "",
        "BilledCost": money_text,
        "BillingAccountId": ACCOUNT[0],
        "BillingAccountName": ACCOUNT[1],
        "BillingAccountType": "Billing Account",
        "BillingCurrency": "USD",
        "BillingPeriodEnd": _iso((period + timedelta(days=32)).replace(day=1)),
        "BillingPeriodStart": _iso(period),
        "CapacityReservationId": "",
        "CapacityReservationStatus": "",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeDescription": description,
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": _iso(day + timedelta(days=1)),
        "ChargePeriodStart": _iso(day),
        "CommitmentDiscountCategory": "",
        "CommitmentDiscountId": "",
        "CommitmentDiscountName": "",
        "CommitmentDiscountQuantity": "",
        "CommitmentDiscountStatus": "",
        "CommitmentDiscountType": "",
        "CommitmentDiscountUnit": "",
        "ConsumedQuantity": plain(quantity),
        "ConsumedUnit": unit,
        "ContractedCost": money_text,
        "ContractedUnitPrice": plain(unit_price),
        "EffectiveCost": money_text,
        "InvoiceId": "",
        "InvoiceIssuerName": "AWS",
        "ListCost": money_text,
        "ListUnitPrice": plain(unit_price),
        "PricingCategory": "Standard",
        "PricingCurrency": "USD",
        "PricingCurrencyContractedUnitPrice": plain(unit_price),
        "PricingCurrencyEffectiveCost": money_text,
        "PricingCurrencyListUnitPrice": plain(unit_price),
        "PricingQuantity": plain(pricing_quantity),
        "PricingUnit": pricing_unit,
        "ProviderName": "AWS",
        "PublisherName": publisher,
        "RegionId": "us-east-1",
        "RegionName": "US East (N. Virginia)",
        "ResourceId": "",
        "ResourceName": "",
        "ResourceType": "",
        "ServiceCategory": category,
        "ServiceName": service,
        "ServiceSubcategory": subcategory,
        "SkuId": sku,
        "SkuMeter": meter,
        "SkuPriceDetails": "",
        "SkuPriceId": f"{sku}.{usage_type}",
        "SubAccountId": ACCOUNT[0],
        "SubAccountName": ACCOUNT[1],
        "SubAccountType": "AWS Account",
        "Tags": json.dumps({"team": "legal-ai"}),
        "x_UsageType": usage_type,
        "x_Operation": operation,
        "x_ServiceCode": code,
    }


def write_focus(groups: list[Group], days: list[date], landing: Path, seed: int, ledger: Ledger) -> list[Path]:
    """One FOCUS 1.2 CSV per day for the subsidiary payer: Bedrock (Claude) lines and other AWS services."""
    written = []
    for index, day in enumerate(days):
        rng = np.random.default_rng([seed, 6, index])
        rows = []
        for g in groups:
            if g.day != day or g.account != ACCOUNT[0]:
                continue
            for kind, tokens, price in g.priced():
                label, meter = METER[kind]
                cost = money(tokens * price, PLACES)
                rows.append(
                    _row(
                        day,
                        cost=cost,
                        quantity=Decimal(tokens),
                        unit="Tokens",
                        pricing_quantity=Decimal(tokens) / 1000,
                        pricing_unit="1000 Tokens",
                        unit_price=price * 1000,
                        description=f"{PRODUCT} - {label}",
                        meter=meter,
                        service=PRODUCT,
                        category="AI and Machine Learning",
                        subcategory="Generative AI",
                        publisher="Anthropic",
                        sku="B7V2K9QJ4XW3M8ZP",
                        usage_type=f"USE1-MP:USE1_{meter}-Units",
                        operation="InvokeModelInference",
                        code="AmazonBedrock",
                    )
                )
                ledger.charge(day, "aws_bedrock", cost, tokens * price)
        for svc in AWS_OTHER[:2]:
            quantity = svc.quantity(rng)
            category = "Compute" if svc.service == "AmazonEC2" else "Storage"
            rows.append(
                _row(
                    day,
                    cost=money(quantity * svc.rate, PLACES),
                    quantity=quantity,
                    unit=svc.unit,
                    pricing_quantity=quantity,
                    pricing_unit=svc.unit,
                    unit_price=svc.rate,
                    description=f"{svc.detail('product_name')} {svc.sku}",
                    meter=svc.sku,
                    service=svc.detail("product_name"),
                    category=category,
                    subcategory="Virtual Machines" if category == "Compute" else "Object Storage",
                    publisher="AWS",
                    sku=hashlib.md5(svc.sku.encode()).hexdigest()[:16].upper(),
                    usage_type=svc.sku,
                    operation=svc.detail("operation"),
                    code=svc.service,
                )
            )
        path = landing / "focus" / str(day) / f"focus-1.2_{ACCOUNT[1]}_{day}.csv"
        written.append(write_csv_export(path, COLUMNS, rows, encoding="utf-8", lineterminator="\n"))
    return written
