"""Would self-hosting an open model on our own GPUs be cheaper than the API models it could replace?

The math (reference: shared/reference/anomaly_pricing_tco.md section 3.1):

    $/GPU-hour = capex * (1 - residual) / (years * 8760)      amortisation
               + kW * PUE * $/kWh                             power (server share incl. CPU, NIC, fans)
               + capex * opex% / 8760                         maintenance, support, colocation, ops
    $/1M tokens = $/GPU-hour / (tokens/s/GPU * 3600 * utilisation) * 1e6

H100 defaults ($40k all-in, 4 years, 10% residual, 1.275 kW, PUE 1.4, $0.10/kWh, 10%/yr opex) give
$1.03 + $0.18 + $0.46 = $1.66 per GPU-hour.

What `self_host_tco` compares, per candidate open model (tokenomics.yaml `tco.models`) and per
assumed utilisation (`tco.utilization_pct`; utilisation dominates the answer):
- which API usage it could take over: API models of the same size class (`API_MODEL_CLASSES`:
  mini/haiku/flash models -> "small", gpt-4o/Sonnet/Gemini Pro class -> "large"; frontier
  reasoning and Opus models have no open equivalent here and are never counted). Candidates of a
  class are alternatives, each against the same usage. A quality trade-off, as for smaller models;
- its capacity: the throughput reference is output tokens/s per replica at ISL/OSL 1000/1000, so a
  replica also prefills as many input tokens: we count input + output tokens against
  2 x output tokens/s (`TOKENS_PER_OUTPUT_TOKEN`). Long-prompt mixes process more total tokens per
  second in the same TRT-LLM tables (5000/500 on Llama-3.3-70B: 898 out = 9,878 total tok/s vs
  8,410), so this is conservative for input-heavy traffic;
- GPUs: enough replicas for the peak day of the window at the assumed utilisation (the average
  busy fraction of provisioned capacity on that day; traffic peaks within a day), running all
  month (720 GPU-hours each: idle hours are paid for too);
- break-even: the monthly tokens at which one replica costs what the APIs charge for them. None
  when, at that utilisation, a self-hosted token costs more than an API token at any volume.
  break_even_utilization_pct is the utilisation at which a self-hosted token costs what an API
  token costs (over 100: never, even with the GPUs always busy).
A month is 30 days, as in tokenomics.advice.savings. Rows whose requests were all unpriced are left out
(their API cost is unknown).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

import polars as pl

from tokenomics.advice.savings import MONTH_DAYS, model_family
from tokenomics.config import PricesConfig, SelfHostModel, TcoConfig
from tokenomics.pricing import unit_prices
from tokenomics.pricing.units import PER_MILLION, TokenPrices
from tokenomics.schema import MONEY, Schema

HOURS_PER_YEAR = 8760
MONTH_HOURS = MONTH_DAYS * 24
SECONDS_PER_DAY = 86_400
TOKENS_PER_OUTPUT_TOKEN = 2
"""Total (input + output) tokens a replica processes per output token in the 1000/1000 reference."""

CENT = Decimal("0.01")


@dataclass(frozen=True)
class OpenModel:
    """A built-in open model: its size class, throughput reference and an API host of the same model."""

    size_class: str
    gpus: int
    output_tokens_per_second: Decimal
    reference: str
    hosted_provider: str | None = None
    hosted_model: str | None = None


_TRTLLM = (
    "NVIDIA TensorRT-LLM perf overview (docs/source/performance/perf-overview.md), trtllm-bench, ISL/OSL 1000/1000"
)
OPEN_MODELS: dict[str, OpenModel] = {
    "Llama-3.1-8B FP8": OpenModel(
        "small",
        1,
        Decimal(15220),
        f"{_TRTLLM}: Llama-3.1-8B FP8 on 1xH100 TP1, 15,220 output tok/s",
        "groq",
        "llama-3.1-8b-instant",
    ),
    "Llama-3.3-70B FP8": OpenModel(
        "large",
        2,
        Decimal(4205),
        f"{_TRTLLM}: Llama-3.3-70B FP8 on 2xH100 TP2, 4,205 output tok/s",
        "groq",
        "llama-3.3-70b-versatile",
    ),
}
"""The reference's throughput table (anomaly_pricing_tco.md section 3.3); config.TcoConfig's default
`models` are these two. Max-load offline numbers: latency-bound serving gets several times less
(NVIDIA NIM: Llama-3.3-70B on 2xH100 at ISL/OSL 5000/500 saturates near 920 tok/s)."""

API_MODEL_CLASSES: dict[str, str] = {
    **dict.fromkeys(
        (
            "gpt-4o-mini",
            "gpt-4.1-mini",
            "gpt-4.1-nano",
            "gpt-5-mini",
            "gpt-5-nano",
            "gpt-3.5-turbo",
            "claude-3-haiku",
            "claude-3-5-haiku",
            "claude-haiku-4-5",
            "gemini-2.0-flash",
            "gemini-2.0-flash-lite",
            "gemini-2.5-flash",
            "gemini-2.5-flash-lite",
            "mistral-small",
            "ministral-8b",
            "open-mistral-nemo",
        ),
        "small",
    ),
    **dict.fromkeys(
        (
            "gpt-4o",
            "gpt-4.1",
            "gpt-5",
            "o4-mini",
            "o3-mini",
            "claude-3-5-sonnet",
            "claude-3-7-sonnet",
            "claude-sonnet-4",
            "claude-4-sonnet",
            "claude-sonnet-4-5",
            "gemini-2.5-pro",
            "mistral-large",
            "mistral-medium",
        ),
        "large",
    ),
}
"""API model family (tokenomics.advice.savings.model_family) -> the open model class that could stand in.
An 8B model stands in for mini/haiku/flash, a 70B one for the mid-size flagship models."""

LARGE_FROM_BILLION_PARAMS = 30

TCO_SCHEMA: Schema = {
    "as_of": pl.Date,
    "open_model": pl.String,
    "size_class": pl.String,
    "gpu": pl.String,
    "gpus_per_replica": pl.Int64,
    "output_tokens_per_second": pl.Decimal(38, 3),
    "throughput_reference": pl.String,
    "utilization_pct": pl.Decimal(9, 2),
    "replaces": pl.String,
    "monthly_tokens": pl.Int64,
    "peak_daily_tokens": pl.Int64,
    "api_monthly_usd": MONEY,
    "api_usd_per_mtok": MONEY,
    "gpu_hour_usd": MONEY,
    "self_host_usd_per_mtok": MONEY,
    "gpus_needed": pl.Int64,
    "monthly_gpu_hours": pl.Int64,
    "monthly_amortization_usd": MONEY,
    "monthly_power_usd": MONEY,
    "monthly_opex_usd": MONEY,
    "monthly_self_host_usd": MONEY,
    "monthly_savings_usd": MONEY,
    "average_utilization_pct": pl.Decimal(9, 2),
    "replica_monthly_usd": MONEY,
    "break_even_monthly_tokens": pl.Int64,
    "break_even_utilization_pct": pl.Decimal(18, 2),
    "cloud_monthly_usd": MONEY,
    "hosted_api_model": pl.String,
    "hosted_api_monthly_usd": MONEY,
    "verdict": pl.String,
}


# --------------------------------------------------------------------------------------------
# the formulas


@dataclass(frozen=True)
class GpuHourCost:
    """Cost of one on-prem GPU for one hour, by component (USD, unrounded)."""

    amortization: Decimal
    power: Decimal
    opex: Decimal

    @property
    def total(self) -> Decimal:
        return self.amortization + self.power + self.opex


def gpu_hour_cost(tco: TcoConfig) -> GpuHourCost:
    """capex*(1-residual)/(years*8760) + kW*PUE*$/kWh + capex*opex%/8760 (reference section 3.1)."""
    capex = tco.capex_usd_per_gpu
    return GpuHourCost(
        amortization=capex * (1 - tco.residual_pct / 100) / (tco.amortization_years * HOURS_PER_YEAR),
        power=tco.power_kw_per_gpu * tco.pue * tco.electricity_usd_per_kwh,
        opex=capex * tco.opex_pct_per_year / 100 / HOURS_PER_YEAR,
    )


def cost_per_million_tokens(gpu_hour_usd: Decimal, tokens_per_second_per_gpu: Decimal, utilization: Decimal) -> Decimal:
    """$/1M tokens = $/GPU-hour / (tokens/s/GPU * 3600 * utilisation) * 1e6; utilisation in (0, 1]."""
    if not 0 < utilization <= 1:
        raise ValueError(f"utilization must be in (0, 1], got {utilization}")
    return gpu_hour_usd / (Decimal(tokens_per_second_per_gpu) * 3600 * Decimal(utilization)) * PER_MILLION


def size_class(model: str | None) -> str | None:
    """'small' or 'large': the open model class that could stand in for an API model, or None."""
    return API_MODEL_CLASSES.get(model_family(model) or "")


def open_model_class(candidate: SelfHostModel) -> str | None:
    """The size class of a candidate: from the built-in table, else from a size in its name ('70B')."""
    if candidate.name in OPEN_MODELS:
        return OPEN_MODELS[candidate.name].size_class
    match = re.search(r"(?:(\d+)x)?(\d+(?:\.\d+)?)\s*B\b", candidate.name, re.IGNORECASE)
    if not match:
        return None
    billions = float(match.group(2)) * (int(match.group(1)) if match.group(1) else 1)
    return "large" if billions >= LARGE_FROM_BILLION_PARAMS else "small"


# --------------------------------------------------------------------------------------------
# the table


@dataclass(frozen=True)
class _ClassUsage:
    """API usage one size class could hand over, over the window."""

    models: tuple[str, ...] = ()
    tokens: int = 0
    peak_daily_tokens: int = 0
    cost: Decimal = Decimal(0)
    uncached: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0


def self_host_tco(
    usage: pl.DataFrame,
    tco_config: TcoConfig | None = None,
    *,
    as_of: date,
    window_days: int = 30,
    prices: PricesConfig | None = None,
) -> pl.DataFrame:
    """One row per candidate open model and assumed utilisation: self-hosting vs the APIs it could replace.

    `usage` holds usage_daily rows; only [as_of - window_days + 1, as_of] is read. `prices` only
    prices the hosted-API comparison (the same open model from an API host).
    """
    tco = tco_config or TcoConfig()
    by_class, days_seen = _usage_by_class(usage, as_of, window_days)
    hour = gpu_hour_cost(tco)
    rows = []
    for candidate in tco.models:
        klass = open_model_class(candidate)
        used = by_class.get(klass, _ClassUsage()) if klass is not None else _ClassUsage()
        hosted = _hosted_api(candidate, used, as_of, prices)
        for pct in tco.utilization_pct:
            row = _row(candidate, klass, used, days_seen, pct, hour, tco, hosted)
            rows.append(row | {"as_of": as_of, "verdict": _verdict(row, window_days)})
    return pl.DataFrame(rows, schema=TCO_SCHEMA)


def _usage_by_class(usage: pl.DataFrame, as_of: date, window_days: int) -> tuple[dict[str, _ClassUsage], int]:
    """Window usage per size class; days_seen counts from the window's first day with any usage."""
    if usage.is_empty() or window_days < 1:
        return {}, 0
    first = as_of - timedelta(days=window_days - 1)
    window = usage.filter(pl.col("day").is_between(first, as_of))
    if window.is_empty():
        return {}, 0
    first_seen: date = window.select(pl.col("day").min()).item()  # a Date column: a date, never null here
    days_seen = (as_of - first_seen).days + 1
    if "unpriced_requests" in window.columns:
        window = window.filter(pl.col("unpriced_requests").fill_null(0) < pl.col("requests"))
    models = window.select(pl.col("model").unique())["model"].to_list()
    classes = pl.DataFrame(
        {"model": models, "_class": [size_class(m) for m in models]}, schema={"model": pl.String, "_class": pl.String}
    )
    window = window.join(classes, on="model", how="inner", nulls_equal=True).filter(pl.col("_class").is_not_null())
    tokens = pl.col("input_tokens").fill_null(0) + pl.col("output_tokens").fill_null(0)
    daily = window.group_by("_class", "day").agg(tokens.sum().alias("tokens"))
    peaks = dict(daily.group_by("_class").agg(pl.col("tokens").max()).rows())
    totals = window.group_by("_class").agg(
        pl.col("model").unique().sort().alias("models"),
        tokens.sum().alias("tokens"),
        pl.col("cost_usd").cast(MONEY).fill_null(0).sum().alias("cost"),
        (pl.col("input_tokens") - pl.col("cache_read_tokens") - pl.col("cache_write_tokens"))
        .clip(lower_bound=0)
        .sum()
        .alias("uncached"),
        pl.col("cache_read_tokens").sum().alias("cache_read"),
        pl.col("cache_write_tokens").sum().alias("cache_write"),
        pl.col("output_tokens").sum().alias("output"),
    )
    out = {}
    for row in totals.iter_rows(named=True):
        out[row["_class"]] = _ClassUsage(
            models=tuple(m for m in row["models"] if m is not None),
            tokens=int(row["tokens"]),
            peak_daily_tokens=int(peaks[row["_class"]]),
            cost=row["cost"],
            uncached=int(row["uncached"]),
            cache_read=int(row["cache_read"]),
            cache_write=int(row["cache_write"]),
            output=int(row["output"]),
        )
    return out, days_seen


def _hosted_api(
    candidate: SelfHostModel, used: _ClassUsage, as_of: date, prices: PricesConfig | None
) -> tuple[str | None, Decimal | None]:
    """The same open model from an API host (config compare_*, else the built-in one), for the window's tokens."""
    builtin = OPEN_MODELS.get(candidate.name)
    provider = candidate.compare_provider or (builtin.hosted_provider if builtin else None)
    model = candidate.compare_model or (builtin.hosted_model if builtin else None)
    if not model:
        return None, None
    unit = unit_prices(provider, model, as_of, prices=prices)
    name = f"{provider}/{model}" if provider else model
    if unit is None:
        return name, None
    base = TokenPrices(unit.input, unit.output, unit.cache_read, unit.cache_write)  # window totals: no prompt tiers
    return name, base.cost(
        used.uncached + used.cache_read + used.cache_write, used.output, used.cache_read, used.cache_write
    )


def _row(candidate, klass, used, days_seen, pct, hour, tco, hosted) -> dict:
    """The comparison at one utilisation, as a TCO_SCHEMA row without as_of and verdict."""
    utilization = pct / 100
    per_month = Decimal(MONTH_DAYS) / days_seen if days_seen else Decimal(0)
    monthly_tokens = int((used.tokens * per_month).to_integral_value())
    api_monthly = used.cost * per_month
    api_per_mtok = api_monthly / monthly_tokens * PER_MILLION if monthly_tokens else None

    gpu_tps = candidate.output_tokens_per_second * TOKENS_PER_OUTPUT_TOKEN / candidate.gpus
    replica_per_day = gpu_tps * candidate.gpus * SECONDS_PER_DAY
    replicas = math.ceil(used.peak_daily_tokens / (replica_per_day * utilization)) if used.tokens else 0
    gpu_hours = replicas * candidate.gpus * MONTH_HOURS
    self_per_mtok = cost_per_million_tokens(hour.total, gpu_tps, utilization)
    replica_monthly = hour.total * candidate.gpus * MONTH_HOURS

    break_even = break_even_use = None
    if api_per_mtok:
        break_even_use = cost_per_million_tokens(hour.total, gpu_tps, Decimal(1)) / api_per_mtok * 100
        if self_per_mtok < api_per_mtok:
            break_even = int((replica_monthly / api_per_mtok * PER_MILLION).to_integral_value(ROUND_CEILING))
    average_use = Decimal(monthly_tokens) / MONTH_DAYS / (replicas * replica_per_day) * 100 if replicas else Decimal(0)
    hosted_name, hosted_cost = hosted
    api, self_host = _cents(api_monthly), _cents(hour.total * gpu_hours)
    return {
        "open_model": candidate.name,
        "size_class": klass,
        "gpu": tco.gpu,
        "gpus_per_replica": candidate.gpus,
        "output_tokens_per_second": candidate.output_tokens_per_second,
        "throughput_reference": _throughput_reference(candidate),
        "utilization_pct": pct,
        "replaces": ", ".join(used.models),
        "monthly_tokens": monthly_tokens,
        "peak_daily_tokens": used.peak_daily_tokens,
        "api_monthly_usd": api,
        "api_usd_per_mtok": None if api_per_mtok is None else _money(api_per_mtok),
        "gpu_hour_usd": _money(hour.total),
        "self_host_usd_per_mtok": _money(self_per_mtok),
        "gpus_needed": replicas * candidate.gpus,
        "monthly_gpu_hours": gpu_hours,
        # each part rounded on its own: the parts may differ from the total by a cent
        "monthly_amortization_usd": _cents(hour.amortization * gpu_hours),
        "monthly_power_usd": _cents(hour.power * gpu_hours),
        "monthly_opex_usd": _cents(hour.opex * gpu_hours),
        "monthly_self_host_usd": self_host,
        "monthly_savings_usd": api - self_host,
        "average_utilization_pct": average_use.quantize(CENT),
        "replica_monthly_usd": _cents(replica_monthly),
        "break_even_monthly_tokens": break_even,
        "break_even_utilization_pct": None if break_even_use is None else break_even_use.quantize(CENT),
        "cloud_monthly_usd": (
            None if tco.cloud_usd_per_gpu_hour is None else _cents(tco.cloud_usd_per_gpu_hour * gpu_hours)
        ),
        "hosted_api_model": hosted_name,
        "hosted_api_monthly_usd": None if hosted_cost is None else _cents(hosted_cost * per_month),
    }


def _throughput_reference(candidate: SelfHostModel) -> str:
    """The cited benchmark for a built-in model left as built in; otherwise the user's own figure."""
    builtin = OPEN_MODELS.get(candidate.name)
    if builtin and (builtin.gpus, builtin.output_tokens_per_second) == (
        candidate.gpus,
        candidate.output_tokens_per_second,
    ):
        return builtin.reference
    return "tokenomics.yaml tco.models (your measurement)"


def _verdict(row: dict, window_days: int) -> str:
    """One line: what self-hosting would cost against the APIs, and from which volume it pays."""
    name, klass = row["open_model"], row["size_class"]
    if klass is None:
        return (
            f"{name}: unknown size class (not a built-in model and no size such as '70B' in its name), "
            "so no API usage to compare with"
        )
    if not row["monthly_tokens"]:
        return f"no {klass}-class API usage in the last {window_days} days for {name} to take over"
    api, self_host, break_even = row["api_monthly_usd"], row["monthly_self_host_usd"], row["break_even_monthly_tokens"]
    replaced = row["replaces"].split(", ")
    models = ", ".join(replaced[:3]) + (f" and {len(replaced) - 3} more" if len(replaced) > 3 else "")
    head = (
        f"self-hosting {name} sized for {_number(row['utilization_pct'])}% utilisation would cost "
        f"{_usd(self_host)}/month vs {_usd(api)} on APIs ({models})"
    )
    now = f"{_mtok(Decimal(row['monthly_tokens']) / MONTH_DAYS)} tokens/day now"
    if break_even is None:
        use = row["break_even_utilization_pct"]
        needs = f"; break-even at {use:.0f}% utilisation" if use is not None else ""
        return (
            f"{head}: not worth it at any volume at this utilisation "
            f"({_usd(row['self_host_usd_per_mtok'], 3)}/M tokens self-hosted vs "
            f"{_usd(row['api_usd_per_mtok'], 3)}/M on APIs{needs})"
        )
    from_day = _mtok(Decimal(break_even) / MONTH_DAYS)
    if self_host < api:
        return (
            f"{head}: saves {_usd(api - self_host)}/month ({now}, break-even {from_day}/day), if its quality is enough"
        )
    if row["monthly_tokens"] < break_even:
        return f"{head}: not worth it below {from_day} tokens/day ({now})"
    peak = _mtok(Decimal(row["peak_daily_tokens"]))
    return (
        f"{head}: not worth it at this utilisation: the peak day ({peak} tokens) needs {row['gpus_needed']} "
        f"GPUs, busy {row['average_utilization_pct']:.0f}% of the time on average"
    )


# --------------------------------------------------------------------------------------------
# formatting


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1e-12"))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _usd(value: Decimal, places: int = 0) -> str:
    """$2,394 for monthly amounts, $12.34 below $100, or a fixed number of places for unit prices."""
    if places:
        return f"${value:,.{places}f}"
    return f"${value:,.2f}" if abs(value) < 100 else f"${value:,.0f}"


def _mtok(tokens: Decimal) -> str:
    """Tokens in millions: 181.6M, 128M, 3.2M, 0.0421M."""
    millions = tokens / PER_MILLION
    if millions < Decimal("0.001"):
        return "<0.001M"
    text = f"{millions:,.1f}".removesuffix(".0") if millions >= 10 else f"{millions:,.3g}"
    return f"{text}M"
