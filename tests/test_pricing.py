"""Pricing: exact costs from published per-million prices, batch, tiers, dated overrides, unpriced rows.

Expected amounts are computed by hand in the comments from the per-million prices written as
literals (genai-prices 0.2.3 bundled catalog).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from genai_prices import Usage, calc_price

import tokenomics.pricing.frame as pricing_frame
from tokenomics.config import PricesConfig, parse_config
from tokenomics.pricing import price_usage, unit_prices
from tokenomics.schema import MONEY, USAGE_EVENTS

D = Decimal
JAN = date(2026, 1, 15)

ACME = {
    "name": "acme-ft",
    "provider": "openai",
    "model": "ft:gpt-4o-mini:acme*",
    "effective_from": "2026-01-01",
    "effective_to": "2026-03-01",
    "input_per_mtok": "0.30",
    "output_per_mtok": "1.20",
    "cache_read_per_mtok": "0.15",
    "cache_write_per_mtok": None,
}
NEGOTIATED = {
    "name": "anthropic-negotiated",
    "provider": "anthropic",
    "model": "*",
    "effective_from": "2026-02-01",
    "discount_pct": "12.5",
}


def usage(*rows: dict) -> pl.DataFrame:
    """usage_events rows: tokens default to 0, day to JAN, status ok."""
    defaults = {
        "day": JAN,
        "input_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "output_tokens": 0,
        "reasoning_tokens": 0,
        "is_batch": False,
        "service_tier": "default",
        "status": "ok",
        "source": "litellm",
    }
    return pl.DataFrame([defaults | row for row in rows], schema=USAGE_EVENTS)


def prices(*overrides: dict, **knobs) -> PricesConfig:
    return parse_config({"prices": {"overrides": list(overrides), **knobs}}).prices


def priced(*rows: dict, config: PricesConfig | None = None) -> list[dict]:
    out = price_usage(usage(*rows), config)
    return out.select("model_id", "cost_usd", "cost_source", "price_ref").to_dicts()


def cost(*rows: dict, config: PricesConfig | None = None) -> list[Decimal | None]:
    return [row["cost_usd"] for row in priced(*rows, config=config)]


# ---------------------------------------------------------------------------------- catalog


def test_gpt_4o_cache_read_and_reasoning_inside_output():
    # gpt-4o: $2.50 in, $10 out, $1.25 cache read per million.
    # 1,000,000 input of which 400,000 cache read; 200,000 output of which 50,000 reasoning:
    # 600,000 x 2.50 = 1.50; 400,000 x 1.25 = 0.50; 200,000 x 10 = 2.00 (reasoning not added again)
    [row] = priced(
        {
            "provider": "openai",
            "model": "gpt-4o",
            "input_tokens": 1_000_000,
            "cache_read_tokens": 400_000,
            "output_tokens": 200_000,
            "reasoning_tokens": 50_000,
        }
    )
    assert row == {
        "model_id": "gpt-4o",
        "cost_usd": D("4.000000000000"),
        "cost_source": "catalog",
        "price_ref": "genai-prices==0.2.3:openai/gpt-4o",
    }


def test_claude_sonnet_4_cache_read_and_cache_write():
    # claude-sonnet-4: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million.
    # 1,000,000 input = 300,000 uncached + 600,000 read + 100,000 written; 200,000 output:
    # 0.90 + 0.18 + 0.375 + 3.00 = 4.455
    [row] = priced(
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-20250514",
            "input_tokens": 1_000_000,
            "cache_read_tokens": 600_000,
            "cache_write_tokens": 100_000,
            "output_tokens": 200_000,
        }
    )
    assert row["cost_usd"] == D("4.455") and row["model_id"] == "claude-sonnet-4-0"


def test_gemini_2_5_flash_small_request_is_exact_to_the_token():
    # gemini-2.5-flash (catalog): $0.30 in, $2.50 out, $0.03 cache read; no cache write price.
    # 12,345 input incl. 4,000 read: 8,345 x 0.30 = 0.0025035; 4,000 x 0.03 = 0.00012;
    # 1,001 output x 2.50 = 0.0025025  -> 0.005126
    assert cost(
        {
            "provider": "google_ai",
            "model": "gemini-2.5-flash",
            "input_tokens": 12_345,
            "cache_read_tokens": 4_000,
            "output_tokens": 1_001,
        }
    ) == [D("0.005126")]


def test_cache_write_without_a_catalog_price_costs_the_input_price():
    # gemini-2.5-flash has no cache write price: 10,000 input incl. 2,000 written, all at $0.30 = 0.003
    assert cost(
        {"provider": "gcp_vertex", "model": "gemini-2.5-flash", "input_tokens": 10_000, "cache_write_tokens": 2_000}
    ) == [D("0.003")]


def test_gemini_2_5_pro_tier_applies_per_row_by_prompt_size():
    # gemini-2.5-pro: $1.25 in / $10 out up to 200k prompt tokens; $2.50 / $15 above, on the whole request.
    # 200,000 in: 0.25 + 10,000 out x 10 = 0.10 -> 0.35
    # 200,001 in: 200,001 x 2.50 = 0.5000025 + 10,000 x 15 = 0.15 -> 0.6500025
    # 1,000,000 in incl. 400,000 cache read ($0.25 above the tier): 1.50 + 0.10 + 0 out -> 1.60
    assert cost(
        {"provider": "gcp_vertex", "model": "gemini-2.5-pro", "input_tokens": 200_000, "output_tokens": 10_000},
        {"provider": "gcp_vertex", "model": "gemini-2.5-pro", "input_tokens": 200_001, "output_tokens": 10_000},
        {"provider": "gcp_vertex", "model": "gemini-2.5-pro", "input_tokens": 1_000_000, "cache_read_tokens": 400_000},
    ) == [D("0.35"), D("0.6500025"), D("1.60")]


def test_dated_catalog_change_prices_each_day_at_its_own_rate():
    # o3: $10 in / $40 out until 2025-06-09; $2 / $8 from 2025-06-10. 1M in + 200k out: 18.00 vs 3.60
    rows = [
        {"provider": "openai", "model": "o3", "day": day, "input_tokens": 1_000_000, "output_tokens": 200_000}
        for day in (date(2025, 6, 9), date(2025, 6, 10))
    ]
    before, after = priced(*rows)
    assert (before["cost_usd"], after["cost_usd"]) == (D("18"), D("3.6"))
    assert after["price_ref"] == "genai-prices==0.2.3:openai/o3@2025-06-10"


def test_batch_before_the_catalog_has_batch_prices_gets_our_discount():
    # gpt-4o list 1M in + 200k out = 4.50; the catalog's batch variant starts 2026-10-14, so on
    # 2026-01-15 we apply batch_discount_pct: 50% -> 2.25, 40% -> 2.70
    row = {
        "provider": "openai",
        "model": "gpt-4o",
        "is_batch": True,
        "input_tokens": 1_000_000,
        "output_tokens": 200_000,
    }
    [half] = priced(row)
    assert half["cost_usd"] == D("2.25")
    assert half["price_ref"] == "genai-prices==0.2.3:openai/gpt-4o+batch-50%"
    assert cost(row, config=prices(batch_discount_pct=40)) == [D("2.7")]


def test_batch_uses_the_catalog_batch_price_once_it_exists():
    # gpt-4o batch variant from 2026-10-14: $1.25 in / $5 out -> 1.25 + 1.00 = 2.25, discount not applied twice
    [row] = priced(
        {
            "provider": "openai",
            "model": "gpt-4o",
            "is_batch": True,
            "day": date(2026, 11, 2),
            "input_tokens": 1_000_000,
            "output_tokens": 200_000,
        }
    )
    assert row["cost_usd"] == D("2.25")
    assert row["price_ref"] == "genai-prices==0.2.3:openai/gpt-4o+batch"


def test_priority_tier_uses_the_catalog_variant_when_it_exists():
    # gpt-4o priority from 2026-10-12: $4.25 in / $17 out -> 4.25 + 3.40 = 7.65; before it: list 4.50
    row = {
        "provider": "openai",
        "model": "gpt-4o",
        "service_tier": "priority",
        "input_tokens": 1_000_000,
        "output_tokens": 200_000,
    }
    later, earlier = priced(row | {"day": date(2026, 11, 2)}, row)
    assert later["cost_usd"] == D("7.65") and later["price_ref"].endswith("+tier:priority")
    assert earlier["cost_usd"] == D("4.5") and earlier["price_ref"].endswith("+tier:priority(not in catalog)")


def test_canonical_providers_map_to_catalog_providers():
    # Bedrock cross-region id and Azure deployment of gpt-4o; LiteLLM's "openai/" prefix is stripped.
    # claude-sonnet-4 $3/$15 -> 1M in + 200k out = 6.00; gpt-4o -> 4.50
    base = {"input_tokens": 1_000_000, "output_tokens": 200_000}
    rows = priced(
        base | {"provider": "aws_bedrock", "model": "us.anthropic.claude-sonnet-4-20250514-v1:0"},
        base | {"provider": "azure_openai", "model": "gpt-4o"},
        base | {"provider": "openai", "model": "openai/gpt-4o"},
    )
    assert [r["cost_usd"] for r in rows] == [D("6"), D("4.5"), D("4.5")]
    assert rows[0]["price_ref"].startswith("genai-prices==0.2.3:aws/")
    assert rows[1]["price_ref"] == "genai-prices==0.2.3:azure/gpt-4o"


def test_off_peak_window_prices_by_request_time():
    # deepseek-chat: $0.27 in from 00:30 to 16:30 UTC, $0.135 off-peak; 1M input each
    rows = [
        {
            "provider": "deepseek",
            "model": "deepseek-chat",
            "input_tokens": 1_000_000,
            "ts": datetime(2026, 1, 15, hour, 0, tzinfo=UTC),
        }
        for hour in (3, 20)
    ]
    assert cost(*rows) == [D("0.27"), D("0.135")]


# ---------------------------------------------------------------------------------- unpriced


def test_unknown_model_is_unpriced_with_null_cost_never_zero():
    [row] = priced({"provider": "openai", "model": "my-private-model", "input_tokens": 1_000, "output_tokens": 10})
    assert row == {"model_id": None, "cost_usd": None, "cost_source": "unpriced", "price_ref": None}


def test_error_with_zero_tokens_legitimately_costs_zero():
    [row] = priced({"provider": "openai", "model": "gpt-4o", "status": "error"})
    assert (row["cost_usd"], row["cost_source"]) == (D(0), "catalog")


def test_reported_cost_is_used_only_when_we_cannot_price():
    rows = priced(
        {"provider": "openai", "model": "my-ft", "input_tokens": 100, "reported_cost_usd": D("0.42")},
        {"provider": "openai", "model": "my-ft", "input_tokens": 100, "reported_cost_usd": D("0")},
        {"provider": "openai", "model": "gpt-4o", "input_tokens": 1_000_000, "reported_cost_usd": D("9.99")},
    )
    assert rows[0] == {
        "model_id": None,
        "cost_usd": D("0.42"),
        "cost_source": "reported",
        "price_ref": "reported:litellm",
    }
    # a reported 0 for a request with tokens is not a price: it stays visible as unpriced
    assert (rows[1]["cost_usd"], rows[1]["cost_source"]) == (None, "unpriced")
    # catalog wins over the source's estimate; the estimate stays in reported_cost_usd
    assert (rows[2]["cost_usd"], rows[2]["cost_source"]) == (D("2.5"), "catalog")


def test_reported_fallback_can_be_switched_off():
    row = {"provider": "openai", "model": "my-ft", "input_tokens": 100, "reported_cost_usd": D("0.42")}
    assert priced(row, config=prices(reported_cost_fallback=False))[0]["cost_source"] == "unpriced"


# ---------------------------------------------------------------------------------- overrides


def test_override_window_starts_on_effective_from_and_ends_before_effective_to():
    # acme-ft 2026-01-01 .. 2026-03-01 (exclusive): $0.30 in, $1.20 out, $0.15 cache read, cache write = input.
    # 1M input incl. 200k read + 100k written, 100k output:
    # 700,000 x 0.30 = 0.21; 200,000 x 0.15 = 0.03; 100,000 x 0.30 = 0.03; 100,000 x 1.20 = 0.12 -> 0.39
    tokens = {
        "provider": "openai",
        "model": "ft:gpt-4o-mini:acme:support:9f2",
        "input_tokens": 1_000_000,
        "cache_read_tokens": 200_000,
        "cache_write_tokens": 100_000,
        "output_tokens": 100_000,
    }
    days = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 2, 28), date(2026, 3, 1)]
    rows = priced(*(tokens | {"day": d} for d in days), config=prices(ACME))
    assert [r["cost_usd"] for r in rows] == [None, D("0.39"), D("0.39"), None]
    assert [r["cost_source"] for r in rows] == ["unpriced", "override", "override", "unpriced"]
    assert rows[1]["price_ref"] == "override:acme-ft"
    assert rows[1]["model_id"] == "ft:gpt-4o-mini:acme:support:9f2"


def test_override_glob_matches_the_raw_model_string_only():
    row = {"provider": "openai", "model": "ft:gpt-4o-mini:other-org:x", "input_tokens": 1_000}
    assert priced(row, config=prices(ACME))[0]["cost_source"] == "unpriced"


def test_override_applies_batch_discount_to_its_own_prices():
    # acme-ft batch: 1M input at 0.30 x 50% = 0.15
    [row] = priced(
        {"provider": "openai", "model": "ft:gpt-4o-mini:acme:x", "is_batch": True, "input_tokens": 1_000_000},
        config=prices(ACME),
    )
    assert (row["cost_usd"], row["price_ref"]) == (D("0.15"), "override:acme-ft+batch-50%")


def test_discount_override_day_before_and_day_of_effective_from():
    # claude-sonnet-4 1M in + 200k out = 3.00 + 3.00 = 6.00 list; from 2026-02-01 12.5% off -> 5.25
    tokens = {
        "provider": "anthropic",
        "model": "claude-sonnet-4-20250514",
        "input_tokens": 1_000_000,
        "output_tokens": 200_000,
    }
    before, on = priced(
        tokens | {"day": date(2026, 1, 31)}, tokens | {"day": date(2026, 2, 1)}, config=prices(NEGOTIATED)
    )
    assert (before["cost_usd"], before["cost_source"]) == (D("6"), "catalog")
    assert (on["cost_usd"], on["cost_source"]) == (D("5.25"), "override")
    assert on["price_ref"] == "override:anthropic-negotiated(-12.5%)|genai-prices==0.2.3:anthropic/claude-sonnet-4-0"
    assert on["model_id"] == "claude-sonnet-4-0"


def test_discount_override_keeps_cache_prices_proportional():
    # 12.5% off $0.30 cache read and $3.75 cache write: 1M read -> 0.2625, 1M written -> 3.28125
    rows = [
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4",
            "day": date(2026, 2, 1),
            "input_tokens": 1_000_000,
            kind: 1_000_000,
        }
        for kind in ("cache_read_tokens", "cache_write_tokens")
    ]
    assert cost(*rows, config=prices(NEGOTIATED)) == [D("0.2625"), D("3.28125")]


def test_rerunning_a_past_day_with_a_new_override_reprices_it():
    frame = usage(
        {"provider": "anthropic", "model": "claude-sonnet-4", "day": date(2026, 2, 3), "input_tokens": 1_000_000}
    )
    assert price_usage(frame)["cost_usd"].to_list() == [D("3")]
    assert price_usage(frame, prices(NEGOTIATED))["cost_usd"].to_list() == [D("2.625")]


def test_first_matching_override_wins():
    cheap = ACME | {"name": "cheap", "input_per_mtok": "0.10", "output_per_mtok": "0.10"}
    row = {"provider": "openai", "model": "ft:gpt-4o-mini:acme:x", "input_tokens": 1_000_000}
    assert priced(row, config=prices(cheap, ACME))[0]["price_ref"] == "override:cheap"
    assert priced(row, config=prices(ACME, cheap))[0]["price_ref"] == "override:acme-ft"


# ---------------------------------------------------------------------------------- unit_prices and shape


def test_unit_prices_are_exact_per_million_decimals():
    gpt = unit_prices("openai", "gpt-4o", JAN)
    assert (gpt.input, gpt.output, gpt.cache_read, gpt.cache_write) == (D("2.5"), D("10"), D("1.25"), D("2.5"))
    assert (gpt.model_id, gpt.price_ref) == ("gpt-4o", "genai-prices==0.2.3:openai/gpt-4o")
    claude = unit_prices("anthropic", "claude-sonnet-4", JAN)
    assert (claude.input, claude.output, claude.cache_read, claude.cache_write) == (D(3), D(15), D("0.3"), D("3.75"))
    pro = unit_prices("gcp_vertex", "gemini-2.5-pro", JAN)
    assert [(t.above_input_tokens, t.input, t.output) for t in pro.tiers] == [(200_000, D("2.5"), D(15))]
    assert pro.cost(input_tokens=200_001, output_tokens=0) == D("0.5000025")
    assert unit_prices("openai", "my-private-model", JAN) is None


def test_unit_prices_apply_batch_and_overrides():
    assert unit_prices("openai", "gpt-4o", JAN, is_batch=True).input == D("1.25")
    acme = unit_prices("openai", "ft:gpt-4o-mini:acme:x", JAN, prices=prices(ACME))
    assert (acme.input, acme.cache_read, acme.cache_write, acme.cost_source) == (
        D("0.30"),
        D("0.15"),
        D("0.30"),
        "override",
    )


def test_costs_match_genai_prices_calc_price():
    cases = [
        ("openai", "openai", "gpt-4o", dict(input_tokens=123_457, cache_read_tokens=23_456, output_tokens=7_891)),
        (
            "anthropic",
            "anthropic",
            "claude-sonnet-4-5",
            dict(input_tokens=250_000, cache_read_tokens=20_000, cache_write_tokens=30_000, output_tokens=999),
        ),
        (
            "gcp_vertex",
            "google",
            "gemini-2.5-pro",
            dict(input_tokens=199_999, cache_read_tokens=99_999, output_tokens=1),
        ),
        ("mistral", "mistral", "mistral-large-latest", dict(input_tokens=31_337, output_tokens=4_242)),
    ]
    when = datetime(2026, 1, 15, 12, tzinfo=UTC)
    rows = [{"provider": provider, "model": model, **tokens} for provider, _, model, tokens in cases]
    expected = [
        calc_price(Usage(**tokens), model, provider_id=catalog_id, genai_request_timestamp=when).total_price
        for _, catalog_id, model, tokens in cases
    ]
    assert cost(*rows) == [e.quantize(D("1e-12")) for e in expected]


def test_result_columns_are_typed_and_rows_keep_their_order():
    frame = usage(
        {"event_id": "b", "provider": "openai", "model": "gpt-4o", "input_tokens": 10},
        {"event_id": "a", "provider": "openai", "model": "nope", "input_tokens": 10},
    )
    out = price_usage(frame)
    assert out.columns == frame.columns
    assert out.schema["cost_usd"] == MONEY
    assert out["event_id"].to_list() == ["b", "a"]


def test_unit_prices_looked_up_once_per_group(monkeypatch):
    calls = []
    real = pricing_frame.unit_prices

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(pricing_frame, "unit_prices", counting)
    rows = [{"provider": "openai", "model": "gpt-4o", "input_tokens": i} for i in range(500)]
    rows += [{"provider": "openai", "model": "gpt-4o", "is_batch": True, "input_tokens": i} for i in range(500)]
    out = price_usage(usage(*rows))
    assert len(calls) == 2
    assert out["cost_usd"].null_count() == 0


@pytest.mark.parametrize("provider", [None, "other"])
def test_unknown_provider_lets_the_catalog_infer_it_from_the_model(provider):
    assert cost({"provider": provider, "model": "gpt-4o", "input_tokens": 1_000_000}) == [D("2.5")]


def test_override_can_target_one_service_tier():
    # flex before the catalog knew it: 50% off gpt-4o list for flex rows only. 1M input: 2.50 -> 1.25
    flex = {
        "name": "openai-flex",
        "provider": "openai",
        "model": "gpt-4o",
        "service_tier": "flex",
        "effective_from": "2025-01-01",
        "discount_pct": 50,
    }
    row = {"provider": "openai", "model": "gpt-4o", "input_tokens": 1_000_000}
    assert cost(row | {"service_tier": "flex"}, row, config=prices(flex)) == [D("1.25"), D("2.5")]


def test_audio_tokens_are_priced_at_the_catalogs_audio_rates():
    # gpt-4o-mini-realtime-preview: text in 0.60, audio in 10, text out 2.40, audio out 20 per MTok
    row = {
        "provider": "openai",
        "model": "gpt-4o-mini-realtime-preview",
        "input_tokens": 1_000_000,
        "input_audio_tokens": 400_000,
        "output_tokens": 1_000_000,
        "output_audio_tokens": 500_000,
    }
    assert cost(row) == [Decimal("0.36") + Decimal("4") + Decimal("1.2") + Decimal("10")]


def test_audio_tokens_without_an_audio_price_cost_what_text_costs():
    text = {"provider": "openai", "model": "gpt-4o-mini", "input_tokens": 1_000_000, "output_tokens": 1_000_000}
    assert cost(text | {"input_audio_tokens": 300_000, "output_audio_tokens": 200_000}) == cost(text)
