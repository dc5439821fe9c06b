"""Unit prices per million tokens, with prompt-size tiers: the value every pricing path returns."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal

PER_MILLION = Decimal(1_000_000)


def pct_text(value: Decimal) -> str:
    """A percentage as price_ref writes it: 50, 12.5 (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class TokenPrices:
    """USD per million tokens for the four token kinds we price.

    `input` applies to uncached input only (input minus cache reads and writes); output includes
    reasoning, which is never priced again.
    """

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal

    def scaled(self, factor: Decimal):
        """The same prices times `factor` (a discount is factor < 1); UnitPrices scales its tiers too."""
        return replace(self, **{kind: getattr(self, kind) * factor for kind in TOKEN_KINDS})

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read_tokens: int = 0, cache_write_tokens: int = 0
    ) -> Decimal:
        """Exact cost of one request at these prices (input_tokens includes the cache tokens)."""
        uncached = max(input_tokens - cache_read_tokens - cache_write_tokens, 0)
        prices = self.at_prompt(input_tokens)
        return (
            uncached * prices.input
            + cache_read_tokens * prices.cache_read
            + cache_write_tokens * prices.cache_write
            + output_tokens * prices.output
        ) / PER_MILLION

    def at_prompt(self, input_tokens: int) -> TokenPrices:
        return self


TOKEN_KINDS = tuple(f.name for f in fields(TokenPrices))
AUDIO_KINDS = ("input_audio", "output_audio")


@dataclass(frozen=True)
class PriceTier(TokenPrices):
    """Prices for requests whose prompt (input_tokens) is strictly above `above_input_tokens`.

    As in genai-prices, crossing a tier reprices the whole request, not just the tokens above it.
    """

    above_input_tokens: int = 0


@dataclass(frozen=True)
class UnitPrices(TokenPrices):
    """Prices for one (day, provider, model, batch, service tier), and where they came from."""

    model_id: str | None = None
    price_ref: str = ""
    cost_source: str = "catalog"  # 'catalog' or 'override'
    tiers: tuple[PriceTier, ...] = ()
    varies_by_time_of_day: bool = False
    """The catalog price depends on the hour (off-peak windows): price per request time."""
    input_audio: Decimal | None = None
    output_audio: Decimal | None = None
    """Audio token prices (uncached audio input, audio output) when the catalog has them; None:
    audio tokens cost what text tokens cost. Not tiered (no catalog entry tiers them)."""

    def scaled(self, factor: Decimal) -> UnitPrices:
        scaled = TokenPrices.scaled(self, factor)
        audio = {k: getattr(self, k) * factor for k in AUDIO_KINDS if getattr(self, k) is not None}
        return replace(scaled, tiers=tuple(tier.scaled(factor) for tier in self.tiers), **audio)

    def at_prompt(self, input_tokens: int) -> TokenPrices:
        """The prices that apply to a request with this many input tokens."""
        chosen: TokenPrices = self
        for tier in self.tiers:
            if input_tokens > tier.above_input_tokens:
                chosen = tier
        return TokenPrices(*(getattr(chosen, kind) for kind in TOKEN_KINDS))
