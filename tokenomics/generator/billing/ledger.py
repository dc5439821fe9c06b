"""The billing truth: what each provider's exports finally bill per day, and the usage they report."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import polars as pl

from tokenomics.schema import MONEY


class Ledger:
    """Collects, per (day, provider), the AI lines each writer put in its final export."""

    def __init__(self) -> None:
        self._money: dict[tuple[date, str], dict[str, Decimal]] = defaultdict(
            lambda: {"billed": Decimal(0), "list": Decimal(0), "credits": Decimal(0)}
        )
        self._usage: list[dict] = []

    def charge(self, day: date, provider: str, billed: Decimal, list_cost: Decimal) -> None:
        entry = self._money[(day, provider)]
        entry["billed"] += billed
        entry["list"] += list_cost

    def credit(self, day: date, provider: str, amount: Decimal) -> None:
        """A credit (negative amount): lowers what the bill owes."""
        entry = self._money[(day, provider)]
        entry["billed"] += amount
        entry["credits"] += amount

    def usage(self, **row) -> None:
        self._usage.append(row)

    def billing_daily(self) -> pl.DataFrame:
        """truth/billing_daily: billed_cost_usd = the invoice amount (discounted usage + credits), restated."""
        keys = sorted(self._money)
        return pl.DataFrame(
            {
                "day": [k[0] for k in keys],
                "provider": [k[1] for k in keys],
                "billed_cost_usd": [self._money[k]["billed"] for k in keys],
                "list_cost_usd": [self._money[k]["list"] for k in keys],
                "credits_usd": [self._money[k]["credits"] for k in keys],
            },
            schema={
                "day": pl.Date,
                "provider": pl.String,
                "billed_cost_usd": MONEY,
                "list_cost_usd": MONEY,
                "credits_usd": MONEY,
            },
        )

    def provider_usage(self) -> pl.DataFrame:
        """truth/provider_usage: tokens as the providers' usage reports give them (null = not reported)."""
        schema = {
            "day": pl.Date,
            "provider": pl.String,
            "sub_account_id": pl.String,
            "model": pl.String,
            "is_batch": pl.Boolean,
            "requests": pl.Int64,
            "input_tokens": pl.Int64,
            "cache_read_tokens": pl.Int64,
            "cache_write_tokens": pl.Int64,
            "output_tokens": pl.Int64,
            "reasoning_tokens": pl.Int64,
        }
        frame = pl.DataFrame(self._usage, schema=schema) if self._usage else pl.DataFrame(schema=schema)
        return frame.sort("day", "provider", "sub_account_id", "model", "is_batch", nulls_last=True)
