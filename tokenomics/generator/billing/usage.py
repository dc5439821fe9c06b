"""What each provider saw: per day, sub-account, model and tier, the tokens of requests that succeeded, priced.

Bills never include failed requests (they carry no tokens) nor anything the provider did not serve.
Everything here is per group (a few dozen per day), so plain Python with Decimal is fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from tokenomics.generator.catalog import BATCH_DISCOUNT, unit_prices

TOKEN_KINDS = ("input", "cache_read", "cache_write", "output")  # input = uncached input here


@dataclass(frozen=True)
class Group:
    """One provider-side usage group: a model on a sub-account on a day, batch or not."""

    day: date
    provider: str
    account: str
    model_key: str
    model: str
    kind: str
    is_batch: bool
    requests: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int

    @property
    def uncached_input(self) -> int:
        return self.input_tokens - self.cache_read_tokens - self.cache_write_tokens

    def tokens(self, kind: str) -> int:
        return {
            "input": self.uncached_input,
            "cache_read": self.cache_read_tokens,
            "cache_write": self.cache_write_tokens,
            "output": self.output_tokens,
        }[kind]

    def unit_price(self, kind: str) -> Decimal:
        """List price per token of this kind, batch tier included (half price)."""
        price = getattr(unit_prices(self.model_key, self.day), kind)
        return price * BATCH_DISCOUNT if self.is_batch else price

    def priced(self) -> list[tuple[str, int, Decimal]]:
        """(token kind, tokens, list price per token) for every kind with tokens."""
        return [(k, self.tokens(k), self.unit_price(k)) for k in TOKEN_KINDS if self.tokens(k) > 0]


def provider_groups(cells: pl.DataFrame, streams: pl.DataFrame) -> list[Group]:
    """Successful usage per (day, provider, sub-account, model, batch), from the generator's stream cells."""
    grouped = (
        cells.join(streams.select("stream", "provider", "account", "model_key", "model", "kind"), on="stream")
        .group_by("day", "provider", "account", "model_key", "model", "kind", "is_batch")
        .agg(
            pl.col("succeeded").sum().alias("requests"),
            *[
                pl.col(c).sum()
                for c in (
                    "input_tokens",
                    "cache_read_tokens",
                    "cache_write_tokens",
                    "output_tokens",
                    "reasoning_tokens",
                )
            ],
        )
        .filter(pl.col("requests") > 0)
        .sort("day", "provider", "account", "model_key", "is_batch")
    )
    return [Group(**row) for row in grouped.iter_rows(named=True)]


def money(value: Decimal, places: int) -> Decimal:
    """Round the way bills do: half up, to a fixed number of decimal places."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fixed(value: Decimal, places: int) -> str:
    """Decimal text with exactly `places` decimals (no exponent), as exports print money."""
    return f"{money(value, places):.{places}f}"


def plain(value: Decimal) -> str:
    """Decimal text without exponent or trailing zeros: 0.002125, 1250.337, 30."""
    return f"{value.normalize():f}"
