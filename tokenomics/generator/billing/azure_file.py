"""Azure EA "actual cost" export CSV (formats.md section 4): the real 55-column header, UTF-8 BOM.

Azure OpenAI lines (MeterCategory `Cognitive Services`, MeterSubCategory `Azure OpenAI`, meters like
`gpt 4o 1120 cached Inp glbl Tokens`) among virtual machine, storage and bandwidth lines. Quantities
count `1K` blocks; the enterprise agreement has a negotiated discount, so EffectivePrice = UnitPrice
< PayGPrice and Cost = Quantity x EffectivePrice exactly. Dates are MM/DD/YYYY; Tags is JSON without
its outer braces.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from tokenomics.generator.billing.csv_export import write_csv_export
from tokenomics.generator.billing.ledger import Ledger
from tokenomics.generator.billing.other_services import AZURE_OTHER
from tokenomics.generator.billing.usage import Group, plain

HEADER = (
    "BillingAccountId,BillingAccountName,BillingPeriodStartDate,BillingPeriodEndDate,BillingProfileId,"
    "BillingProfileName,AccountOwnerId,AccountName,SubscriptionId,SubscriptionName,Date,Product,PartNumber,MeterId,"
    "ServiceFamily,MeterCategory,MeterSubCategory,MeterRegion,MeterName,Quantity,EffectivePrice,Cost,UnitPrice,"
    "BillingCurrency,ResourceLocation,AvailabilityZone,ConsumedService,ResourceId,ResourceName,ServiceInfo1,"
    "ServiceInfo2,AdditionalInfo,Tags,InvoiceSectionId,InvoiceSection,CostCenter,UnitOfMeasure,ResourceGroup,"
    "ReservationId,ReservationName,ProductOrderId,ProductOrderName,OfferId,IsAzureCreditEligible,Term,PublisherName,"
    "PlanName,ChargeType,Frequency,PublisherType,PayGPrice,PricingModel,CostAllocationRuleName,benefitId,benefitName"
).split(",")

NEGOTIATED = Decimal("0.85")  # EA price = 85% of pay-as-you-go
SUBSCRIPTIONS = {
    "sub-growth-eastus": ("3f2a9c1e-5b7d-4e8a-9c0f-1d2e3f4a5b6c", "growth-eastus", "rg-growth-ai", "growth")
}
ACCOUNT = "acme-openai-eastus"
METERS = {
    "input": "gpt 4o 1120 Inp glbl Tokens",
    "output": "gpt 4o 1120 Outp glbl Tokens",
    "cache_read": "gpt 4o 1120 cached Inp glbl Tokens",
}
BLOCK = 1000  # UnitOfMeasure 1K


def _meter_id(name: str) -> str:
    return str(uuid.UUID(hashlib.md5(name.encode()).hexdigest()))


def _us_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def _base(day: date, sub: str) -> dict:
    guid, sub_name, group, team = SUBSCRIPTIONS[sub]
    period = date(day.year, day.month, 1)
    period_end = (period + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return {
        "BillingAccountId": "8611537",
        "BillingAccountName": "Acme Corp",
        "BillingPeriodStartDate": _us_date(period),
        "BillingPeriodEndDate": _us_date(period_end),
        "BillingProfileId": "8611537",
        "BillingProfileName": "Acme Corp",
        "AccountOwnerId": "cloud-billing@acme.example",
        "AccountName": "Acme Growth",
        "SubscriptionId": guid,
        "SubscriptionName": sub_name,
        "Date": _us_date(day),
        "BillingCurrency": "USD",
        "ResourceLocation": "eastus",
        "AvailabilityZone": "",
        "ServiceInfo1": "",
        "ServiceInfo2": "",
        "AdditionalInfo": "",
        "Tags": f'"team": "{team}","env": "prod"',
        "InvoiceSectionId": "34521",
        "InvoiceSection": "Growth",
        "CostCenter": "CC-204",
        "ResourceGroup": group,
        "ReservationId": "",
        "ReservationName": "",
        "ProductOrderId": "",
        "ProductOrderName": "",
        "OfferId": "MS-AZR-0017P",
        "IsAzureCreditEligible": "True",
        "Term": "",
        "PublisherName": "Microsoft",
        "PlanName": "",
        "ChargeType": "Usage",
        "Frequency": "UsageBased",
        "PublisherType": "Azure",
        "PricingModel": "OnDemand",
        "CostAllocationRuleName": "",
        "benefitId": "",
        "benefitName": "",
    }


def _resource_id(guid: str, group: str, kind: str, name: str) -> str:
    # ARM ids arrive in mixed case; readers must lowercase them for joins
    return f"/subscriptions/{guid}/resourceGroups/{group.upper()}/providers/{kind}/{name}"


def write_azure(groups: list[Group], days: list[date], landing: Path, seed: int, ledger: Ledger) -> list[Path]:
    """One EA actual-cost CSV per day; Azure OpenAI lines priced at the negotiated (discounted) rate."""
    written = []
    for index, day in enumerate(days):
        rng = np.random.default_rng([seed, 4, index])
        rows = []
        for sub, (guid, _, group, _) in SUBSCRIPTIONS.items():
            tokens_by_meter: dict[str, tuple[int, Decimal]] = {}
            for g in groups:
                if g.day != day or g.account != sub:
                    continue
                for kind, tokens, price in g.priced():
                    count, _ = tokens_by_meter.get(kind, (0, price))
                    tokens_by_meter[kind] = (count + tokens, price)
            for kind in ("input", "cache_read", "output"):
                if kind not in tokens_by_meter:
                    continue
                tokens, price = tokens_by_meter[kind]
                quantity = Decimal(tokens) / BLOCK
                payg = price * BLOCK
                effective = payg * NEGOTIATED
                cost = quantity * effective
                rows.append(
                    {
                        **_base(day, sub),
                        "Product": f"Azure OpenAI - {METERS[kind]}",
                        "PartNumber": "AAK-00012",
                        "MeterId": _meter_id(METERS[kind]),
                        "ServiceFamily": "AI + Machine Learning",
                        "MeterCategory": "Cognitive Services",
                        "MeterSubCategory": "Azure OpenAI",
                        "MeterRegion": "Global",
                        "MeterName": METERS[kind],
                        "Quantity": plain(quantity),
                        "EffectivePrice": plain(effective),
                        "Cost": plain(cost),
                        "UnitPrice": plain(effective),
                        "ConsumedService": "Microsoft.CognitiveServices",
                        "ResourceId": _resource_id(guid, group, "Microsoft.CognitiveServices/accounts", ACCOUNT),
                        "ResourceName": ACCOUNT,
                        "UnitOfMeasure": "1K",
                        "PayGPrice": plain(payg),
                    }
                )
                ledger.charge(day, "azure_openai", cost, quantity * payg)
            for svc in AZURE_OTHER:
                quantity = svc.quantity(rng)
                effective = svc.rate * NEGOTIATED
                rows.append(
                    {
                        **_base(day, sub),
                        "Product": f"{svc.service} - {svc.sku}",
                        "PartNumber": "AAA-00001",
                        "MeterId": _meter_id(svc.sku),
                        "ServiceFamily": svc.detail("family"),
                        "MeterCategory": svc.service,
                        "MeterSubCategory": svc.detail("subcategory"),
                        "MeterRegion": "US East",
                        "MeterName": svc.sku,
                        "Quantity": plain(quantity),
                        "EffectivePrice": plain(effective),
                        "Cost": plain(quantity * effective),
                        "UnitPrice": plain(effective),
                        "ConsumedService": svc.detail("consumed"),
                        "ResourceId": _resource_id(
                            guid, group, f"{svc.detail('consumed')}/{svc.detail('type')}", svc.detail("resource")
                        ),
                        "ResourceName": svc.detail("resource"),
                        "UnitOfMeasure": svc.unit,
                        "PayGPrice": plain(svc.rate),
                    }
                )
        path = landing / "azure_cost" / str(day) / f"ea_actualcost_{day.strftime('%Y%m%d')}.csv"
        written.append(write_csv_export(path, HEADER, rows, encoding="utf-8-sig", lineterminator="\r\n"))
    return written
