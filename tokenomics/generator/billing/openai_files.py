"""OpenAI Usage API and Costs API pages (formats.md section 1), one daily bucket per file.

Usage: completions results grouped by project_id, model, batch and service_tier (2026 fields: input
includes cached; cache writes are 0 on OpenAI), embeddings results in their own file. Costs: grouped by
project_id and line_item (`gpt-4o-2024-08-06, cached input`; batch lines as `batch | <model>, input`),
`amount.value` a dollar decimal STRING with 16 decimals, rounded to 6 places like the dashboard export.
Models are the dated snapshots OpenAI reports, not the aliases the gateways log.

Restatement: on one day a first costs file (delivered the next day) lacks the batch lines and
under-counts one line; a second file for the same day, delivered three days later (a later
`_delivered-` stamp), carries every line with the final numbers. The latest delivery wins.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from tokenomics.generator.billing.ledger import Ledger
from tokenomics.generator.billing.pages import day_bounds_unix, write_page
from tokenomics.generator.billing.usage import Group, fixed, money

SNAPSHOTS = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "o4-mini": "o4-mini-2025-04-16",
    "o9-mini": "o9-mini-2026-01-20",
    "text-embedding-3-small": "text-embedding-3-small",
}
TOKEN_CLASS = {"input": "input", "cache_read": "cached input", "cache_write": "cache write", "output": "output"}
PLACES = 6
EARLY_SHARE = Decimal("0.9")  # the first delivery of the restated day bills this share of one line


def _bucket(day: date, results: list[dict]) -> dict:
    start, end = day_bounds_unix(day)
    return {
        "object": "page",
        "data": [{"object": "bucket", "start_time": start, "end_time": end, "results": results}],
        "has_more": False,
        "next_page": None,
    }


def _completions(g: Group) -> dict:
    uncached = g.input_tokens - g.cache_read_tokens
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": g.input_tokens,
        "input_cached_tokens": g.cache_read_tokens,
        "input_cache_write_tokens": 0,
        "input_uncached_tokens": uncached,
        "output_tokens": g.output_tokens,
        "input_text_tokens": uncached,
        "output_text_tokens": g.output_tokens,
        "input_cached_text_tokens": g.cache_read_tokens,
        "input_audio_tokens": 0,
        "input_cached_audio_tokens": 0,
        "output_audio_tokens": 0,
        "input_image_tokens": 0,
        "input_cached_image_tokens": 0,
        "output_image_tokens": 0,
        "num_model_requests": g.requests,
        "project_id": g.account,
        "user_id": None,
        "api_key_id": None,
        "model": SNAPSHOTS[g.model_key],
        "batch": g.is_batch,
        "service_tier": "default",
    }


def _embeddings(g: Group) -> dict:
    return {
        "object": "organization.usage.embeddings.result",
        "input_tokens": g.input_tokens,
        "num_model_requests": g.requests,
        "project_id": g.account,
        "user_id": None,
        "api_key_id": None,
        "model": SNAPSHOTS[g.model_key],
    }


def _cost_lines(groups: list[Group]) -> list[tuple[dict, Decimal, Decimal, bool]]:
    """(result, billed amount, list cost, is_batch) per project and line item."""
    lines = []
    for g in groups:
        for kind, tokens, price in g.priced():
            item = f"{SNAPSHOTS[g.model_key]}, {TOKEN_CLASS[kind]}"
            if g.is_batch:
                item = f"batch | {item}"
            amount = money(tokens * price, PLACES)
            result = {
                "object": "organization.costs.result",
                "amount": {"value": fixed(amount, 16), "currency": "usd"},
                "line_item": item,
                "project_id": g.account,
                "api_key_id": None,
                "quantity": tokens,
                "quantity_unit": "tokens",
            }
            lines.append((result, amount, tokens * price, g.is_batch))
    return lines


def _early_delivery(lines: list[tuple[dict, Decimal, Decimal, bool]]) -> list[dict]:
    """The first, incomplete delivery of a restated day: no batch lines yet, the largest line short."""
    kept = [line for line in lines if not line[3]]
    if not kept:
        return []
    largest = max(range(len(kept)), key=lambda i: kept[i][1])
    out = []
    for i, (result, amount, _, _) in enumerate(kept):
        if i == largest:
            result = {**result, "amount": {"value": fixed(money(amount * EARLY_SHARE, PLACES), 16), "currency": "usd"}}
        out.append(result)
    return out


def write_openai(groups: list[Group], landing: Path, restated_day: date | None, ledger: Ledger) -> list[Path]:
    """Write OpenAI usage and costs pages for every day with OpenAI usage; record the final bill."""
    written = []
    for day in sorted({g.day for g in groups}):
        todays = [g for g in groups if g.day == day]
        chat = [g for g in todays if g.kind == "chat"]
        embed = [g for g in todays if g.kind == "embedding"]
        usage_dir, costs_dir = landing / "openai_usage" / str(day), landing / "openai_costs" / str(day)
        written.append(
            write_page(usage_dir / f"completions_usage_{day}.json", _bucket(day, [_completions(g) for g in chat]))
        )
        if embed:
            written.append(
                write_page(usage_dir / f"embeddings_usage_{day}.json", _bucket(day, [_embeddings(g) for g in embed]))
            )
        for g in chat:
            ledger.usage(
                day=day,
                provider="openai",
                sub_account_id=g.account,
                model=SNAPSHOTS[g.model_key],
                is_batch=g.is_batch,
                requests=g.requests,
                input_tokens=g.input_tokens,
                cache_read_tokens=g.cache_read_tokens,
                cache_write_tokens=0,
                output_tokens=g.output_tokens,
                reasoning_tokens=None,
            )
        lines = _cost_lines(todays)
        first = day + timedelta(days=1)
        if day == restated_day:
            early = _early_delivery(lines)
            written.append(write_page(costs_dir / f"costs_{day}_delivered-{first}.json", _bucket(day, early)))
            first = day + timedelta(days=3)
        written.append(
            write_page(costs_dir / f"costs_{day}_delivered-{first}.json", _bucket(day, [line[0] for line in lines]))
        )
        for _, amount, list_cost, _ in lines:
            ledger.charge(day, "openai", amount, list_cost)
    return written
