"""GCP Cloud Billing export rows (formats.md section 5) as JSON lines, one file per day.

Vertex AI lines (service `C7E2-9256-1C43`, SKUs like `Gemini 2.5 Pro Text Input (≤200k)`) among
Compute Engine, BigQuery and Cloud Storage lines. `cost` is dollars before credits, rounded to 6
places; during the first half of the range a promotional credit covers 20% of Vertex AI costs, as a
negative amount in the row's `credits` array (net = cost + sum of credits). Timestamps are BigQuery's
`YYYY-MM-DD HH:MM:SS UTC`; labels are key/value records. Token SKUs count in `count` units.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from tokenomics.generator.billing.ledger import Ledger
from tokenomics.generator.billing.other_services import GCP_OTHER
from tokenomics.generator.billing.usage import Group, money

BILLING_ACCOUNT = "01A2B3-C4D5E6-F7A8B9"
VERTEX = {"id": "C7E2-9256-1C43", "description": "Vertex AI"}
PROJECTS = {
    "acme-growth-prod": ("412345678901", "growth"),
    "acme-mobile-prod": ("512345678902", "mobile"),
    "acme-data-prod": ("612345678903", "data-platform"),
}
SKUS = {  # model -> token kind -> (sku id, description)
    "gemini-2.5-flash": {
        "input": ("FDAB-647C-5A22", "Gemini 2.5 Flash Text Input"),
        "cache_read": ("0C8E-1E4B-6E1B", "Gemini 2.5 Flash Cached Text Input"),
        "output": ("AF56-1B2E-7E05", "Gemini 2.5 Flash Text and Thinking Output"),
    },
    "gemini-2.5-pro": {
        "input": ("A121-E2B5-1418", "Gemini 2.5 Pro Text Input (≤200k)"),
        "cache_read": ("2F1A-8C0E-9B77", "Gemini 2.5 Pro Cached Text Input (≤200k)"),
        "output": ("5DA2-3F77-1CA2", "Gemini 2.5 Pro Text and Thinking Output (≤200k)"),
    },
}
PLACES = 6
PROMOTION_SHARE = Decimal("0.2")


def _ts(day: date) -> str:
    return f"{day} 00:00:00 UTC"


def _row(
    day: date,
    project: str,
    service: dict,
    sku_id: str,
    sku: str,
    cost: Decimal,
    amount: Decimal,
    unit: str,
    credits: list[dict],
    export_day: date,
) -> dict:
    number, team = PROJECTS[project]
    return {
        "billing_account_id": BILLING_ACCOUNT,
        "service": service,
        "sku": {"id": sku_id, "description": sku},
        "usage_start_time": _ts(day),
        "usage_end_time": _ts(day + timedelta(days=1)),
        "project": {
            "id": project,
            "number": number,
            "name": project,
            "labels": [{"key": "team", "value": team}],
            "ancestry_numbers": f"/847261530011/{number}/",
        },
        "labels": [{"key": "team", "value": team}, {"key": "env", "value": "prod"}],
        "system_labels": [],
        "location": {"location": "us-central1", "country": "US", "region": "us-central1", "zone": None},
        "export_time": f"{export_day} 04:17:09.482000 UTC",
        "cost": float(cost),
        "cost_at_list": float(cost),
        "currency": "USD",
        "currency_conversion_rate": 1.0,
        "usage": {
            "amount": float(amount),
            "unit": unit,
            "amount_in_pricing_units": float(amount),
            "pricing_unit": unit,
        },
        "credits": credits,
        "invoice": {"month": day.strftime("%Y%m")},
        "cost_type": "regular",
        "adjustment_info": None,
        "transaction_type": "GOOGLE",
        "seller_name": "Google",
    }


def write_gcp(groups: list[Group], days: list[date], landing: Path, seed: int, ledger: Ledger) -> list[Path]:
    """One billing-export JSONL per day: Vertex AI token lines (with credits early on) and other services."""
    written = []
    for index, day in enumerate(days):
        rng = np.random.default_rng([seed, 5, index])
        promotion = index < (len(days) + 1) // 2
        rows = []
        for project in PROJECTS:
            by_sku: dict[tuple[str, str], tuple[int, Decimal]] = {}
            for g in groups:
                if g.day != day or g.account != project:
                    continue
                for kind, tokens, price in g.priced():
                    count, _ = by_sku.get((g.model, kind), (0, price))
                    by_sku[(g.model, kind)] = (count + tokens, price)
            for (model, kind), (tokens, price) in sorted(by_sku.items()):
                sku_id, description = SKUS[model][kind]
                cost = money(tokens * price, PLACES)
                credits = []
                if promotion:
                    credit = -money(cost * PROMOTION_SHARE, PLACES)
                    credits = [
                        {
                            "name": "Vertex AI Gemini launch credit",
                            "amount": float(credit),
                            "full_name": "Vertex AI Gemini launch credit",
                            "id": "6d3e0c8a-2a57-4b6e-9f41-1c2b3a4d5e6f",
                            "type": "PROMOTION",
                        }
                    ]
                    ledger.credit(day, "gcp_vertex", credit)
                ledger.charge(day, "gcp_vertex", cost, tokens * price)
                rows.append(
                    _row(
                        day,
                        project,
                        VERTEX,
                        sku_id,
                        description,
                        cost,
                        Decimal(tokens),
                        "count",
                        credits,
                        day + timedelta(days=1),
                    )
                )
            for svc in GCP_OTHER:
                amount = svc.quantity(rng)
                rows.append(
                    _row(
                        day,
                        project,
                        {"id": svc.detail("service_id"), "description": svc.service},
                        svc.detail("sku_id"),
                        svc.sku,
                        money(amount * svc.rate, PLACES),
                        amount,
                        svc.unit,
                        [],
                        day + timedelta(days=1),
                    )
                )
        path = (
            landing
            / "gcp_billing"
            / str(day)
            / f"gcp_billing_export_v1_{BILLING_ACCOUNT.replace('-', '_')}_{day}.jsonl"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        written.append(path)
    return written
