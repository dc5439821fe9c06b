"""Self-hosting TCO: the GPU-hour and per-token formulas, size classes, and the comparison table."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from tokenomics.advice.tco import (
    TCO_SCHEMA,
    cost_per_million_tokens,
    gpu_hour_cost,
    open_model_class,
    self_host_tco,
    size_class,
)
from tokenomics.config import PriceOverride, PricesConfig, SelfHostModel, TcoConfig
from tokenomics.schema import MONEY

AS_OF = date(2026, 3, 10)


def usage(*rows: dict) -> pl.DataFrame:
    base = {
        "team": "t",
        "feature": "f",
        "provider": "openai",
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "errors": 0,
        "unpriced_requests": 0,
        "batch_requests": 0,
        "requests": 100,
    }
    schema = {
        "day": pl.Date,
        "team": pl.String,
        "feature": pl.String,
        "provider": pl.String,
        "model": pl.String,
        "requests": pl.Int64,
        "errors": pl.Int64,
        "input_tokens": pl.Int64,
        "cache_read_tokens": pl.Int64,
        "cache_write_tokens": pl.Int64,
        "output_tokens": pl.Int64,
        "reasoning_tokens": pl.Int64,
        "cost_usd": MONEY,
        "unpriced_requests": pl.Int64,
        "batch_requests": pl.Int64,
    }
    return pl.DataFrame([base | row for row in rows], schema=schema)


def days(n: int, last: date = AS_OF):
    return [last - timedelta(days=i) for i in reversed(range(n))]


# --------------------------------------------------------------------------------------------
# formulas


def test_h100_reference_costs_1_66_per_gpu_hour():
    # reference 3.5: $40k, 4 years, 10% residual, 1.275 kW, PUE 1.4, $0.10/kWh, 10%/yr opex
    # amortisation 40000 * 0.9 / (4 * 8760) = 36000 / 35040 = 1.02740
    # power        1.275 * 1.4 * 0.10                     = 0.1785
    # opex         40000 * 0.10 / 8760   = 4000 / 8760    = 0.45662
    # total                                               = 1.66252  -> "$1.66/GPU-h"
    hour = gpu_hour_cost(TcoConfig())
    assert hour.amortization.quantize(Decimal("0.00001")) == Decimal("1.02740")
    assert hour.power == Decimal("0.1785")
    assert hour.opex.quantize(Decimal("0.00001")) == Decimal("0.45662")
    assert hour.total.quantize(Decimal("0.00001")) == Decimal("1.66252")


@pytest.mark.parametrize(
    "tokens_per_second, utilization, per_million",
    [
        # Llama-3.1-8B FP8, 1xH100, 15,220 tok/s: 1.66252 / (15220 * 3600 * U) * 1e6
        (Decimal(15220), Decimal(1), "0.0303"),  # 1.66252 / 54,792,000 * 1e6 = 0.03034
        (Decimal(15220), Decimal("0.25"), "0.1214"),  # four times that: 0.12137
        # Llama-3.3-70B FP8, 2xH100, 4,205 tok/s = 2,102.5 per GPU
        (Decimal("2102.5"), Decimal(1), "0.2196"),  # 1.66252 / 7,569,000 * 1e6 = 0.21965
        (Decimal("2102.5"), Decimal("0.25"), "0.8786"),  # 0.87859 (reference table: 0.879)
    ],
)
def test_cost_per_million_tokens_matches_the_reference_table(tokens_per_second, utilization, per_million):
    hour = gpu_hour_cost(TcoConfig()).total
    assert cost_per_million_tokens(hour, tokens_per_second, utilization).quantize(Decimal("0.0001")) == Decimal(
        per_million
    )


@pytest.mark.parametrize("utilization", [Decimal(0), Decimal("1.5")])
def test_utilisation_must_be_a_fraction_of_capacity(utilization):
    with pytest.raises(ValueError, match="utilization"):
        cost_per_million_tokens(Decimal(2), Decimal(1000), utilization)


@pytest.mark.parametrize(
    "model, klass",
    [
        ("gpt-4o", "large"),
        ("openai/gpt-4o-mini-2024-07-18", "small"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "small"),
        ("claude-sonnet-4@20250514", "large"),
        ("gemini-2.5-flash", "small"),
        ("claude-opus-4-20250514", None),  # frontier: no open model of its class here
        ("o3", None),
        ("acme-finetune", None),
    ],
)
def test_api_models_map_to_an_open_model_size_class(model, klass):
    assert size_class(model) == klass


@pytest.mark.parametrize(
    "name, klass",
    [
        ("Llama-3.1-8B FP8", "small"),
        ("Llama-3.3-70B FP8", "large"),
        ("Qwen2.5-72B-Instruct AWQ", "large"),
        ("Mistral-7B", "small"),
        ("Mixtral-8x7B", "large"),  # 8 x 7 = 56B total
        ("house-model", None),
    ],
)
def test_candidate_size_class_comes_from_the_table_or_the_name(name, klass):
    assert open_model_class(SelfHostModel(name=name, output_tokens_per_second=Decimal(1000))) == klass


# --------------------------------------------------------------------------------------------
# the comparison table

# GPU-hour chosen to be round: capex 35,040 over 4 years, no residual -> 35040 / 35040 = $1.00;
# power 1 kW * PUE 1.0 * $0.20 = $0.20; opex 25%/yr -> 35040 * 0.25 / 8760 = $1.00. Total $2.20.
ROUND_TCO = dict(
    capex_usd_per_gpu=Decimal(35040),
    amortization_years=Decimal(4),
    residual_pct=Decimal(0),
    power_kw_per_gpu=Decimal(1),
    pue=Decimal(1),
    electricity_usd_per_kwh=Decimal("0.20"),
    opex_pct_per_year=Decimal(25),
    cloud_usd_per_gpu_hour=Decimal(3),
    utilization_pct=[Decimal(25), Decimal(50), Decimal(100)],
)
# A 2-GPU replica at 1,000 output tok/s processes 2,000 tokens/s (1000/1000 mix) = 172.8M tokens/day.
TEST_70B = SelfHostModel(
    name="Test-70B",
    gpus=2,
    output_tokens_per_second=Decimal(1000),
    compare_provider="groq",
    compare_model="llama-3.3-70b-versatile",
)
GROQ_PRICE = PricesConfig(
    overrides=[
        PriceOverride(
            name="groq-test",
            provider="groq",
            model="llama-3.3-70b-versatile",
            effective_from=date(2026, 1, 1),
            input_per_mtok=Decimal("0.5"),
            output_per_mtok=Decimal(1),
        )
    ]
)


def large_usage() -> pl.DataFrame:
    """10 days of gpt-4o: 9 days of 100M in + 20M out at $300, one peak day of 180M + 20M at $500.

    Plus rows that must not count: Opus (no open class), an unpriced model, a day before the window.
    """
    rows = [
        {
            "day": d,
            "model": "gpt-4o",
            "input_tokens": 100_000_000,
            "output_tokens": 20_000_000,
            "cost_usd": Decimal(300),
        }
        for d in days(9, AS_OF - timedelta(days=1))
    ]
    rows.append(
        {
            "day": AS_OF,
            "model": "gpt-4o",
            "input_tokens": 180_000_000,
            "output_tokens": 20_000_000,
            "cost_usd": Decimal(500),
        }
    )
    rows.append(
        {
            "day": AS_OF,
            "model": "claude-opus-4",
            "provider": "anthropic",
            "input_tokens": 10**9,
            "output_tokens": 10**8,
            "cost_usd": Decimal(20000),
        }
    )
    rows.append(
        {
            "day": AS_OF,
            "model": "gpt-4o",
            "input_tokens": 10**9,
            "output_tokens": 0,
            "cost_usd": Decimal(0),
            "unpriced_requests": 100,
        }
    )
    rows.append(
        {
            "day": AS_OF - timedelta(days=10),
            "model": "gpt-4o",
            "input_tokens": 10**10,
            "output_tokens": 10**9,
            "cost_usd": Decimal(99999),
        }
    )
    return usage(*rows)


def tco_rows(frame: pl.DataFrame, **config) -> dict[Decimal, dict]:
    tco = TcoConfig(**(ROUND_TCO | {"models": [TEST_70B]} | config))
    out = self_host_tco(frame, tco, as_of=AS_OF, window_days=10, prices=GROQ_PRICE)
    assert out.schema == pl.Schema(TCO_SCHEMA)
    return {row["utilization_pct"]: row for row in out.iter_rows(named=True)}


def test_self_host_sizes_gpus_for_the_peak_day_and_pays_for_them_all_month():
    rows = tco_rows(large_usage())
    at_50 = rows[Decimal(50)]
    # window: 9 * 120M + 200M = 1,280M tokens and $3,200 over 10 days -> x3 for a 30-day month
    assert at_50["replaces"] == "gpt-4o"
    assert at_50["monthly_tokens"] == 3_840_000_000
    assert at_50["peak_daily_tokens"] == 200_000_000
    assert at_50["api_monthly_usd"] == Decimal("9600.00")
    assert at_50["api_usd_per_mtok"] == Decimal("2.5")  # 9600 / 3840
    assert at_50["gpu_hour_usd"] == Decimal("2.2")
    # 50%: a replica serves 172.8M * 0.5 = 86.4M/day; peak 200M -> ceil(2.31) = 3 replicas = 6 GPUs
    assert at_50["gpus_needed"] == 6
    assert at_50["monthly_gpu_hours"] == 4320  # 6 * 720
    assert at_50["monthly_amortization_usd"] == Decimal("4320.00")
    assert at_50["monthly_power_usd"] == Decimal("864.00")
    assert at_50["monthly_opex_usd"] == Decimal("4320.00")
    assert at_50["monthly_self_host_usd"] == Decimal("9504.00")  # 4320 * 2.20
    assert at_50["monthly_savings_usd"] == Decimal("96.00")
    # $/M at 50%: 2.20 / (1000 tok/s/GPU * 3600 * 0.5) * 1e6 = 1.2222
    assert at_50["self_host_usd_per_mtok"].quantize(Decimal("0.0001")) == Decimal("1.2222")
    # average use: 128M/day over 3 * 172.8M = 24.69%
    assert at_50["average_utilization_pct"] == Decimal("24.69")
    # one replica costs 2.20 * 2 * 720 = $3,168/month = 1,267.2M tokens at $2.50/M
    assert at_50["replica_monthly_usd"] == Decimal("3168.00")
    assert at_50["break_even_monthly_tokens"] == 1_267_200_000
    # a token costs the same at 0.6111 / 2.5 = 24.44% utilisation
    assert at_50["break_even_utilization_pct"] == Decimal("24.44")
    assert at_50["cloud_monthly_usd"] == Decimal("12960.00")  # 4320 GPU-h * $3
    # groq override $0.5/$1: (1080M * 0.5 + 200M * 1) / 1e6 = 740 per window, x3
    assert at_50["hosted_api_model"] == "groq/llama-3.3-70b-versatile"
    assert at_50["hosted_api_monthly_usd"] == Decimal("2220.00")
    assert at_50["verdict"] == (
        "self-hosting Test-70B sized for 50% utilisation would cost $9,504/month vs $9,600 on APIs (gpt-4o): "
        "saves $96.00/month (128M tokens/day now, break-even 42.2M/day), if its quality is enough"
    )


def test_utilisation_decides_how_many_gpus_the_peak_day_needs():
    rows = tco_rows(large_usage())
    # 25%: 43.2M/day per replica -> ceil(200 / 43.2) = 5 replicas; 100%: ceil(200 / 172.8) = 2
    assert [rows[Decimal(p)]["gpus_needed"] for p in (25, 50, 100)] == [10, 6, 4]
    assert rows[Decimal(25)]["monthly_self_host_usd"] == Decimal("15840.00")  # 7200 h * 2.20
    assert rows[Decimal(100)]["monthly_self_host_usd"] == Decimal("6336.00")  # 2880 h * 2.20
    assert rows[Decimal(100)]["monthly_savings_usd"] == Decimal("3264.00")
    # at 25% a token costs 2.4444/M, under $2.50, but the peak day rounds up to 5 replicas
    assert rows[Decimal(25)]["verdict"].endswith(
        "not worth it at this utilisation: the peak day (200M tokens) needs 10 GPUs, busy 15% of the time on average"
    )


def test_small_volume_is_not_worth_a_replica_below_break_even():
    # 1 day of 3.2M gpt-4o tokens for $9.50: $285/month; $2.96875/M
    frame = usage(
        {
            "day": AS_OF,
            "model": "gpt-4o",
            "input_tokens": 3_000_000,
            "output_tokens": 200_000,
            "cost_usd": Decimal("9.5"),
        }
    )
    out = self_host_tco(frame, TcoConfig(), as_of=AS_OF, window_days=1)
    row = out.filter(pl.col("open_model") == "Llama-3.3-70B FP8", pl.col("utilization_pct") == 25).row(0, named=True)
    # one 2xH100 replica: 1.662518 * 2 * 720 = $2,394.03/month = 806.4M tokens at $2.96875/M = 26.9M/day
    assert row["replica_monthly_usd"] == Decimal("2394.03")
    assert row["break_even_monthly_tokens"] == 806_408_860
    assert row["verdict"] == (
        "self-hosting Llama-3.3-70B FP8 sized for 25% utilisation would cost $2,394/month vs $285 on APIs (gpt-4o): "
        "not worth it below 26.9M tokens/day (3.2M tokens/day now)"
    )


def test_cheap_api_tokens_are_never_beaten_at_low_utilisation():
    # $0.50/M API tokens; self-hosting at 25% costs 2.20 / (1000 * 3600 * 0.25) * 1e6 = $2.444/M
    frame = usage(
        *(
            {"day": d, "model": "gpt-4o", "input_tokens": 1_000_000, "output_tokens": 0, "cost_usd": Decimal("0.5")}
            for d in days(10)
        )
    )
    row = tco_rows(frame)[Decimal(25)]
    assert row["break_even_monthly_tokens"] is None
    assert row["break_even_utilization_pct"] == Decimal("122.22")  # 0.6111 / 0.50: even full use loses
    assert row["verdict"].endswith(
        "not worth it at any volume at this utilisation ($2.444/M tokens self-hosted vs $0.500/M on APIs; "
        "break-even at 122% utilisation)"
    )


def test_no_usage_still_lists_every_candidate_and_utilisation():
    out = self_host_tco(usage(), TcoConfig(), as_of=AS_OF)
    assert out.height == 6  # 2 built-in models x 3 utilisations
    assert out["gpus_needed"].to_list() == [0] * 6
    assert out["monthly_self_host_usd"].to_list() == [Decimal(0)] * 6
    assert out["verdict"][0] == "no small-class API usage in the last 30 days for Llama-3.1-8B FP8 to take over"


def test_a_candidate_of_unknown_size_compares_with_nothing():
    rows = tco_rows(large_usage(), models=[SelfHostModel(name="house-model", output_tokens_per_second=Decimal(500))])
    row = rows[Decimal(50)]
    assert row["size_class"] is None and row["monthly_tokens"] == 0
    assert row["verdict"].startswith("house-model: unknown size class")


def test_default_candidates_are_the_built_in_throughput_references():
    from tokenomics.advice.tco import OPEN_MODELS

    for candidate in TcoConfig().models:
        builtin = OPEN_MODELS[candidate.name]
        assert (builtin.gpus, builtin.output_tokens_per_second) == (candidate.gpus, candidate.output_tokens_per_second)
    out = self_host_tco(usage(), TcoConfig(), as_of=AS_OF)
    assert out["throughput_reference"][0].endswith("Llama-3.1-8B FP8 on 1xH100 TP1, 15,220 output tok/s")


def test_a_long_list_of_replaced_models_is_shortened_in_the_verdict():
    frame = usage(
        *(
            {"day": AS_OF, "model": m, "input_tokens": 10**6, "output_tokens": 10**5, "cost_usd": Decimal(5)}
            for m in ("gpt-4o", "gpt-4.1", "gpt-5", "o4-mini", "gemini-2.5-pro")
        )
    )
    row = tco_rows(frame)[Decimal(50)]
    assert row["replaces"] == "gemini-2.5-pro, gpt-4.1, gpt-4o, gpt-5, o4-mini"
    assert "on APIs (gemini-2.5-pro, gpt-4.1, gpt-4o and 2 more)" in row["verdict"]
