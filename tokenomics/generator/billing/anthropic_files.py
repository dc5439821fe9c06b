"""Anthropic Admin API usage report and cost report pages (formats.md section 2), one daily bucket per file.

Usage: grouped by workspace_id, model and service_tier (`standard` / `batch`); there is no total input
field and no request count (input = uncached + cache read + cache creation). Cost: grouped by
workspace_id and description; `amount` is a decimal STRING in CENTS (5 decimals), currency `USD`.
The default workspace is a null workspace_id on pages grouped by workspace.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from tokenomics.generator.billing.ledger import Ledger
from tokenomics.generator.billing.pages import day_bounds_rfc3339, write_page
from tokenomics.generator.billing.usage import Group, fixed, money

DISPLAY = {"claude-sonnet-4-20250514": "Claude Sonnet 4", "claude-3-5-haiku-20241022": "Claude Haiku 3.5"}
TOKEN_TYPE = {
    "input": "uncached_input_tokens",
    "cache_read": "cache_read_input_tokens",
    "cache_write": "cache_creation.ephemeral_5m_input_tokens",
    "output": "output_tokens",
}
DESCRIBED = {
    "input": "Input Tokens",
    "cache_read": "Prompt Caching Read",
    "cache_write": "Prompt Caching Write (5m)",
    "output": "Output Tokens",
}
CENT_PLACES = 5


def _page(day: date, results: list[dict]) -> dict:
    start, end = day_bounds_rfc3339(day)
    return {
        "data": [{"starting_at": start, "ending_at": end, "results": results}],
        "has_more": False,
        "next_page": None,
    }


def _workspace(g: Group) -> str | None:
    return g.account or None


def _tier(g: Group) -> str:
    return "batch" if g.is_batch else "standard"


def _usage(g: Group) -> dict:
    return {
        "api_key_id": None,
        "workspace_id": _workspace(g),
        "model": g.model,
        "service_tier": _tier(g),
        "context_window": "0-200k",
        "uncached_input_tokens": g.uncached_input,
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": g.cache_write_tokens},
        "cache_read_input_tokens": g.cache_read_tokens,
        "output_tokens": g.output_tokens,
        "server_tool_use": {"web_search_requests": 0},
    }


def write_anthropic(groups: list[Group], landing: Path, ledger: Ledger) -> list[Path]:
    """Write the usage and cost report pages for every day with Anthropic usage; record the bill."""
    written = []
    for day in sorted({g.day for g in groups}):
        todays = [g for g in groups if g.day == day]
        written.append(
            write_page(
                landing / "anthropic_usage" / str(day) / f"usage_report_messages_{day}.json",
                _page(day, [_usage(g) for g in todays]),
            )
        )
        costs = []
        for g in todays:
            ledger.usage(
                day=day,
                provider="anthropic",
                sub_account_id=_workspace(g),
                model=g.model,
                is_batch=g.is_batch,
                requests=None,
                input_tokens=g.input_tokens,
                cache_read_tokens=g.cache_read_tokens,
                cache_write_tokens=g.cache_write_tokens,
                output_tokens=g.output_tokens,
                reasoning_tokens=None,
            )
            batch = " Batch" if g.is_batch else ""
            for kind, tokens, price in g.priced():
                cents = money(tokens * price * 100, CENT_PLACES)
                costs.append(
                    {
                        "currency": "USD",
                        "amount": fixed(cents, CENT_PLACES),
                        "workspace_id": _workspace(g),
                        "description": f"{DISPLAY[g.model]}{batch} Usage - {DESCRIBED[kind]}",
                        "cost_type": "tokens",
                        "context_window": "0-200k",
                        "model": g.model,
                        "service_tier": _tier(g),
                        "token_type": TOKEN_TYPE[kind],
                    }
                )
                ledger.charge(day, "anthropic", cents / Decimal(100), tokens * price)
        written.append(write_page(landing / "anthropic_cost" / str(day) / f"cost_report_{day}.json", _page(day, costs)))
    return written
