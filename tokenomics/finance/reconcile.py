"""Reconcile the gateway's estimate with the provider's bill and name the likely cause of each gap.

sql/reconciliation_daily.sql puts one day's gateway cost, billed cost and both sides' token counts
side by side per (day, provider, model key). `likely_cause` then splits each gap into components,
all in USD at the bill's own unit prices (per token type, so a cache price is a cache price):

    gap = outside_gateway + cache_miscount + unpriced + other_charges + price_difference

- outside_gateway: tokens the provider counted that the gateway did not see (negative: the gateway
  counted tokens the provider does not report), valued at the bill's unit prices;
- cache_miscount: the provider's input split between uncached, cache-read and cache-write tokens
  differs from the gateway's (same input volume, different mix);
- unpriced: gateway requests with cost_source 'unpriced' (priced at 0), valued at the bill's prices;
- other_charges: bill lines that are not tokens (credits, taxes, tools, fees);
- price_difference: the rest, i.e. the same tokens cost a different amount (negotiated rate,
  stale catalog, batch or service tier).

The largest component names the cause, unless the gap is within tolerance (`matched`), is offset by
the opposite gap on the day before or after (`day_boundary`), has no bill line at all (`not_billed`),
or there are no provider token counts to compare (`unexplained`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl

from tokenomics.home import Home
from tokenomics.lake import replace_partition
from tokenomics.marts import sql_frame
from tokenomics.schema import MONEY, TABLES

MART = "reconciliation_daily"
INPUTS = {"usage": "usage_events", "billing": "billing_lines", "provider_usage": "provider_usage"}

CAUSES = (
    "matched",
    "day_boundary",
    "not_billed",
    "outside_gateway",
    "gateway_only_traffic",
    "cache_miscount",
    "unpriced_model",
    "price_difference",
    "non_token_charge",
    "unexplained",
)

COMPONENTS = {
    "outside_gateway_usd": "outside gateway",
    "cache_miscount_usd": "cache miscount",
    "unpriced_usd": "unpriced",
    "other_charges_usd": "non-token charges",
    "price_difference_usd": "price difference",
}

_MILLION = Decimal(1_000_000)
_KINDS = ("uncached", "cache_read", "cache_write", "output")


# --------------------------------------------------------------------------------------------
# running the SQL


def reconciliation_frame(usage: str, billing: str, provider_usage: str) -> pl.DataFrame:
    """sql/reconciliation_daily.sql on one day's Parquet paths (numbers only, no cause yet)."""
    params = {"usage": str(usage), "billing": str(billing), "provider_usage": str(provider_usage)}
    return sql_frame(MART, params)


@contextmanager
def day_inputs(home: Home, day: date) -> Iterator[dict[str, str] | None]:
    """The three parameter paths of `day`; an absent partition reads as an empty file. None if all absent."""
    with tempfile.TemporaryDirectory(prefix=".recon-") as scratch:
        params, present = {}, False
        for param, table in INPUTS.items():
            folder = home.table_day(table, day)
            if folder.exists() and any(folder.glob("*.parquet")):
                params[param], present = str(folder / "*.parquet"), True
            else:
                params[param] = _empty_file(Path(scratch), table)
        yield params if present else None


def _empty_file(folder: Path, table: str) -> str:
    path = folder / f"{table}.parquet"
    pl.DataFrame(schema=TABLES[table]).write_parquet(path)
    return str(path)


def reconcile_days(home: Home, days: list[date]) -> pl.DataFrame:
    """Reconciliation numbers of several days from the lake (days without any input are left out)."""
    frames = []
    for day in days:
        with day_inputs(home, day) as params:
            if params is not None:
                frames.append(reconciliation_frame(**params))
    if not frames:
        return _empty_numbers()
    return pl.concat(frames, how="vertical_relaxed")


def build_reconciliation_day(home: Home, day: date | str, **tolerances) -> int:
    """Write lake/marts/reconciliation_daily/day=D/ with causes; returns its row count.

    Day D is classified together with D-1 and D+1 so a gap that the next or previous day offsets is
    seen as a day boundary effect: re-run D once D+1 has arrived (the nightly trailing window does).
    """
    day = date.fromisoformat(day) if isinstance(day, str) else day
    numbers = reconcile_days(home, [day - timedelta(days=1), day, day + timedelta(days=1)])
    classified = likely_cause(numbers, **tolerances).filter(pl.col("day") == day)
    return replace_partition(home.mart_day(MART, day), classified)


def _empty_numbers() -> pl.DataFrame:
    with tempfile.TemporaryDirectory(prefix=".recon-") as scratch:
        return reconciliation_frame(**{param: _empty_file(Path(scratch), t) for param, t in INPUTS.items()})


# --------------------------------------------------------------------------------------------
# classifying gaps


def likely_cause(
    recon: pl.DataFrame,
    *,
    tolerance_usd: Decimal = Decimal("0.001"),
    tolerance_pct: Decimal = Decimal("1"),
    token_tolerance_pct: Decimal = Decimal("1"),
    boundary_pct: Decimal = Decimal("25"),
) -> pl.DataFrame:
    """Add the gap components (USD), `likely_cause` (one of CAUSES) and a one-line `cause_detail`.

    tol = max(tolerance_usd, tolerance_pct % of the larger of bill and estimate). A row is `matched`
    when its gap and every component are within tol (offsetting causes are still named). A gap is a
    `day_boundary` effect when the same provider and model show an opposite gap on the adjacent day
    and the two cancel to within boundary_pct % of this day's gap, and so do the token differences
    (provider minus gateway) where provider counts exist: requests moved across midnight, not noise.
    Input tokens that differ by more than token_tolerance_pct % are volume (outside the gateway),
    not a cache mix difference.
    Rows of several days may be passed at once (needed for the day boundary test); row order is kept.
    """
    if recon.is_empty():
        return recon.with_columns(
            *[pl.lit(None, MONEY).alias(c) for c in COMPONENTS],
            pl.lit(None, pl.String).alias("likely_cause"),
            pl.lit(None, pl.String).alias("cause_detail"),
        )
    frame = _with_components(recon.with_row_index("_order"), token_tolerance_pct)
    frame = _with_neighbours(frame)
    gap, billed, gateway = pl.col("gap_usd"), pl.col("billed_cost_usd"), pl.col("gateway_cost_usd")
    tol = pl.max_horizontal(
        _money(tolerance_usd), pl.max_horizontal(billed.abs(), gateway.abs()) * _money(tolerance_pct / 100)
    )
    boundary = pl.max_horizontal(tol, gap.abs() * _money(boundary_pct / 100))
    tokens = pl.col("_token_diff")
    offsets = [
        (pl.col(f"{side}_gap") * gap < 0)
        & ((pl.col(f"{side}_gap") + gap).abs() <= boundary)
        & (
            tokens.is_null()
            | (
                (pl.col(f"{side}_token_diff") * tokens < 0)
                & ((pl.col(f"{side}_token_diff") + tokens).abs() * 100 <= tokens.abs() * int(boundary_pct))
            )
        )
        for side in ("prev", "next")
    ]
    gateway_tokens = pl.col("gateway_input_tokens") + pl.col("gateway_output_tokens")
    no_evidence = pl.col("provider_input_tokens").is_null() & (gateway_tokens > 0)
    within = pl.max_horizontal(gap.abs(), *[pl.col(c).abs() for c in COMPONENTS]) <= tol
    cause = (
        pl.when(within)
        .then(pl.lit("matched"))
        .when(offsets[0].fill_null(False) | offsets[1].fill_null(False))
        .then(pl.lit("day_boundary"))
        .when((pl.col("billed_lines") == 0) & ((gateway > 0) | (gateway_tokens > 0)))
        .then(pl.lit("not_billed"))
        .when(no_evidence & (pl.col("unpriced_requests") > 0) & (gap > 0))
        .then(pl.lit("unpriced_model"))
        .when(no_evidence)
        .then(pl.lit("unexplained"))
        .otherwise(_largest_component())
    )
    frame = frame.with_columns(cause.alias("likely_cause"), tol.alias("_tol"))
    frame = frame.with_columns(_detail().alias("cause_detail"))
    neighbours = [f"{side}_{name}" for side in ("prev", "next") for name in ("day", "gap", "token_diff")]
    helpers = [c for c in frame.columns if c.startswith("_")]
    return frame.sort("_order").drop(*helpers, *neighbours)


def _money(value) -> pl.Expr:
    return pl.lit(Decimal(value), MONEY)


def _tokens(expr: pl.Expr) -> pl.Expr:
    return expr.cast(MONEY)


def _disjoint(prefix: str) -> dict[str, pl.Expr]:
    """Token counts by disjoint kind (uncached input, cache read, cache write, output) of one side."""
    cr, cw = pl.col(f"{prefix}_cache_read_tokens"), pl.col(f"{prefix}_cache_write_tokens")
    return {
        "uncached": (pl.col(f"{prefix}_input_tokens") - cr.fill_null(0) - cw.fill_null(0)).clip(lower_bound=0),
        "cache_read": cr,
        "cache_write": cw,
        "output": pl.col(f"{prefix}_output_tokens"),
    }


def _with_components(frame: pl.DataFrame, token_tolerance_pct: Decimal) -> pl.DataFrame:
    """Split gap_usd into the COMPONENTS, at the bill's own USD-per-million-token prices."""
    provider, gateway, unpriced = _disjoint("provider"), _disjoint("gateway"), _disjoint("unpriced")
    billed_tokens = {
        "uncached": pl.col("billed_uncached_input_tokens"),
        "cache_read": pl.col("billed_cache_read_tokens"),
        "cache_write": pl.col("billed_cache_write_tokens"),
        "output": pl.col("billed_output_tokens"),
    }
    billed_cost = {
        "uncached": pl.col("billed_uncached_input_cost_usd"),
        "cache_read": pl.col("billed_cache_read_cost_usd"),
        "cache_write": pl.col("billed_cache_write_cost_usd"),
        "output": pl.col("billed_output_cost_usd"),
    }
    token_cost = pl.col("billed_cost_usd") - pl.col("billed_other_cost_usd")
    provider_total = pl.col("provider_input_tokens") + pl.col("provider_output_tokens")
    blended = pl.when(provider_total > 0).then(token_cost * _money(_MILLION) / _tokens(provider_total))
    unit = {}
    for kind in _KINDS:
        tokens = pl.coalesce(billed_tokens[kind], provider[kind])
        own = pl.when(billed_cost[kind].is_not_null() & (tokens > 0)).then(
            billed_cost[kind] * _money(_MILLION) / _tokens(tokens)
        )
        unit[kind] = pl.coalesce(own, blended, _money(0)).alias(f"_u_{kind}")
    frame = frame.with_columns(*unit.values())
    u = {kind: pl.col(f"_u_{kind}") for kind in _KINDS}

    def value(tokens: dict[str, pl.Expr]) -> pl.Expr:
        return pl.sum_horizontal(*[u[k] * _tokens(tokens[k].fill_null(0)) for k in _KINDS]) / _money(_MILLION)

    gateway_input = pl.col("gateway_input_tokens")
    scale = pl.when(gateway_input > 0).then(_tokens(pl.col("provider_input_tokens")) / _tokens(gateway_input))
    cache_mix = pl.sum_horizontal(
        *[
            (u[k] - u["uncached"]) * (_tokens(provider[k]) - _tokens(gateway[k]) * scale)
            for k in ("cache_read", "cache_write")
        ]
    ) / _money(_MILLION)
    has_provider = pl.col("provider_input_tokens").is_not_null()
    gateway_silent = (pl.col("gateway_input_tokens") + pl.col("gateway_output_tokens")) == 0
    token_diff = {k: provider[k] - gateway[k] for k in _KINDS}
    outside_total = (
        pl.when(has_provider).then(value(token_diff)).when(gateway_silent).then(token_cost).otherwise(_money(0))
    )
    provider_input = _tokens(pl.col("provider_input_tokens"))
    same_input = (provider_input - _tokens(gateway_input)).abs() <= provider_input * _money(token_tolerance_pct / 100)
    cache = pl.when(has_provider & (gateway_input > 0) & same_input).then(cache_mix).otherwise(_money(0))
    frame = frame.with_columns(
        (outside_total - cache).cast(MONEY).alias("outside_gateway_usd"),
        cache.cast(MONEY).alias("cache_miscount_usd"),
        value(unpriced).cast(MONEY).alias("unpriced_usd"),
        pl.col("billed_other_cost_usd").cast(MONEY).alias("other_charges_usd"),
    )
    explained = pl.sum_horizontal(*[pl.col(c) for c in COMPONENTS if c != "price_difference_usd"])
    return frame.with_columns((pl.col("gap_usd") - explained).cast(MONEY).alias("price_difference_usd"))


def _with_neighbours(frame: pl.DataFrame) -> pl.DataFrame:
    """Gap of the same provider and model on the previous and next calendar day (null if absent)."""
    key = ["provider", "model_key"]
    token_diff = (
        pl.col("provider_input_tokens")
        + pl.col("provider_output_tokens")
        - pl.col("gateway_input_tokens")
        - pl.col("gateway_output_tokens")
    )
    frame = frame.with_columns(token_diff.alias("_token_diff")).sort([*key, "day"])
    shifted = {
        f"{side}_{name}": pl.col(column).shift(step).over(key)
        for side, step in (("prev", 1), ("next", -1))
        for name, column in (("day", "day"), ("gap", "gap_usd"), ("token_diff", "_token_diff"))
    }
    frame = frame.with_columns(**shifted)
    one = timedelta(days=1)
    adjacent = {"prev": pl.col("day") - pl.col("prev_day") == one, "next": pl.col("next_day") - pl.col("day") == one}
    return frame.with_columns(
        pl.when(adjacent[side]).then(pl.col(f"{side}_{name}")).alias(f"{side}_{name}")
        for side in ("prev", "next")
        for name in ("gap", "token_diff")
    )


def _largest_component() -> pl.Expr:
    """Name of the component with the largest absolute USD value."""
    names = {
        "outside_gateway_usd": None,
        "cache_miscount_usd": "cache_miscount",
        "unpriced_usd": "unpriced_model",
        "other_charges_usd": "non_token_charge",
        "price_difference_usd": "price_difference",
    }
    largest = pl.max_horizontal(*[pl.col(c).abs() for c in names])
    found = []  # the first component (in this order) that is the largest wins
    for column, name in names.items():
        if name is None:
            name_expr = (
                pl.when(pl.col(column) > 0).then(pl.lit("outside_gateway")).otherwise(pl.lit("gateway_only_traffic"))
            )
        else:
            name_expr = pl.lit(name)
        found.append(pl.when(pl.col(column).abs() == largest).then(name_expr))
    return pl.coalesce([*found, pl.lit("unexplained")])


# --------------------------------------------------------------------------------------------
# the one-line explanation


def _usd(expr: pl.Expr) -> pl.Expr:
    """'+$1,234.56' style text of a money expression (sign always shown)."""
    cents = expr.round(2).cast(pl.Decimal(38, 2))
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    return pl.concat_str([sign, pl.lit("$"), cents.abs().cast(pl.String)])


def _pct(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """'12.3%' of a ratio of two columns (a share, not money: float formatting is fine here)."""
    ratio = numerator.cast(pl.Float64) / denominator.cast(pl.Float64) * 100
    return pl.concat_str([ratio.round(1).cast(pl.String), pl.lit("%")])


def _detail() -> pl.Expr:
    cause, gap = pl.col("likely_cause"), pl.col("gap_usd")
    gateway = pl.col("gateway_cost_usd")
    gw_tokens = pl.col("gateway_input_tokens") + pl.col("gateway_output_tokens")
    pv_tokens = pl.col("provider_input_tokens") + pl.col("provider_output_tokens")
    at_bill = gateway + pl.col("price_difference_usd")
    price_hint = (
        pl.when(pl.col("billed_cost_usd") < pl.col("billed_cost_before_credits_usd"))
        .then(pl.lit("credits or promotions on the bill lines"))
        .when(pl.col("batch_requests") > 0)
        .then(pl.lit("batch pricing of the gateway's batch requests"))
        .when(pl.col("non_default_tier_requests") > 0)
        .then(pl.lit("a service tier priced differently"))
        .when(at_bill < gateway)
        .then(pl.lit("negotiated rate or discount, or a stale catalog price"))
        .otherwise(pl.lit("stale catalog price or a surcharge"))
    )
    neighbour = (
        pl.when(pl.col("prev_gap").is_not_null() & (pl.col("prev_gap") * gap < 0))
        .then(pl.concat_str([pl.lit("the day before ("), _usd(pl.col("prev_gap")), pl.lit(")")]))
        .otherwise(pl.concat_str([pl.lit("the day after ("), _usd(pl.col("next_gap")), pl.lit(")")]))
    )
    main = (
        pl.when(cause == "matched")
        .then(pl.concat_str([pl.lit("gateway explains the bill within tolerance ("), _usd(gap), pl.lit(")")]))
        .when(cause == "day_boundary")
        .then(
            pl.concat_str(
                [
                    pl.lit("gap "),
                    _usd(gap),
                    pl.lit(" is offset by the opposite gap of "),
                    neighbour,
                    pl.lit(": requests near midnight counted on different days"),
                ]
            )
        )
        .when(cause == "not_billed")
        .then(
            pl.concat_str(
                [
                    pl.lit("gateway estimate "),
                    _usd(gateway),
                    pl.lit(" has no bill line: bill not delivered yet, or billed under another model name"),
                ]
            )
        )
        .when(cause == "unexplained")
        .then(
            pl.concat_str(
                [
                    pl.lit("gap "),
                    _usd(gap),
                    pl.lit(" but no provider token counts to compare (no usage report, no quantities on the bill)"),
                ]
            )
        )
        .when(cause == "outside_gateway")
        .then(
            pl.concat_str(
                [
                    pl.lit("provider counted "),
                    _pct(pv_tokens - gw_tokens, pv_tokens),
                    pl.lit(" more tokens than the gateway saw: traffic outside the gateway, "),
                    _usd(pl.col("outside_gateway_usd")),
                ]
            )
        )
        .when(cause == "gateway_only_traffic")
        .then(
            pl.concat_str(
                [
                    pl.lit("gateway counted "),
                    _pct(gw_tokens - pv_tokens, pv_tokens),
                    pl.lit(
                        " more tokens than the provider reports (failed or retried requests, another "
                        "account or model name), "
                    ),
                    _usd(pl.col("outside_gateway_usd")),
                ]
            )
        )
        .when(cause == "cache_miscount")
        .then(
            pl.concat_str(
                [
                    pl.lit("cache tokens differ while input totals match (gateway "),
                    pl.col("gateway_cache_read_tokens").cast(pl.String),
                    pl.lit(" cache reads vs provider "),
                    pl.col("provider_cache_read_tokens").cast(pl.String),
                    pl.lit("), "),
                    _usd(pl.col("cache_miscount_usd")),
                ]
            )
        )
        .when(cause == "unpriced_model")
        .then(
            pl.concat_str(
                [
                    pl.col("unpriced_requests").cast(pl.String),
                    pl.lit(" gateway requests had no price (counted as $0), "),
                    _usd(pl.col("unpriced_usd")),
                ]
            )
        )
        .when(cause == "price_difference")
        .then(
            pl.concat_str(
                [
                    pl.lit("same tokens billed at "),
                    _pct(at_bill, gateway),
                    pl.lit(" of the gateway estimate ("),
                    price_hint,
                    pl.lit("), "),
                    _usd(pl.col("price_difference_usd")),
                ]
            )
        )
        .when(cause == "non_token_charge")
        .then(
            pl.concat_str(
                [pl.lit("bill lines without tokens (credits, taxes, fees, tools), "), _usd(pl.col("other_charges_usd"))]
            )
        )
    )
    secondary = [
        pl.when((pl.col(column).abs() > pl.col("_tol")) & (cause != _cause_of(column))).then(
            pl.concat_str([pl.lit(label + " "), _usd(pl.col(column))])
        )
        for column, label in COMPONENTS.items()
    ]
    also = pl.concat_str(secondary, separator=", ", ignore_nulls=True)
    has_also = (also != "") & ~cause.is_in(["matched", "day_boundary", "not_billed", "unexplained"])
    return pl.when(has_also).then(pl.concat_str([main, pl.lit("; also "), also])).otherwise(main)


def _cause_of(column: str) -> pl.Expr:
    """The cause a component column stands for (outside_gateway_usd covers two, by sign)."""
    if column == "outside_gateway_usd":
        return pl.when(pl.col(column) > 0).then(pl.lit("outside_gateway")).otherwise(pl.lit("gateway_only_traffic"))
    return pl.lit(
        {
            "cache_miscount_usd": "cache_miscount",
            "unpriced_usd": "unpriced_model",
            "other_charges_usd": "non_token_charge",
            "price_difference_usd": "price_difference",
        }[column]
    )
