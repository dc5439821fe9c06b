"""Allocate each provider's bill to teams: attributed gateway cost plus a share of the residual.

Direct cost is what the gateway attributed to a team (team 'unattributed' is not direct). The
residual of a day and provider is billed minus direct: untracked traffic, unattributed traffic,
discounts, credits, commitments. It is spread by one method:

- proportional (default): to each (team, feature, ...) line by its share of the direct cost;
- even: equally across the teams with gateway lines on that provider that day, then within a team
  by direct cost (equally when the team's direct cost is zero);
- weights: by fixed team weights (a standing agreement: a listed team gets its share even on a day
  it sent nothing, on a '(shared)' line); teams not listed get no residual;
- unallocated: kept as its own line, team and feature 'unallocated'.

Fallbacks, visible in `allocation_basis`: a billed provider-day with no direct cost (no gateway
traffic at all, or only zero-cost lines) is spread over teams by their share of that day's direct
cost on all providers ('(shared)' lines; `even` spreads over the day's teams equally); with no
direct cost anywhere that day it stays 'unallocated'. A provider-day with direct cost but no bill
keeps its direct cost, allocates nothing and is marked `unbilled` (not reconciled).

Every output is in cents, and per day and provider the lines sum to the bill exactly: each column
is floored to cents and the missing cents go to the lines with the largest remainders. Passing
`month_to_date_before_usd` (the provider's bill from the 1st to the day before) rounds the running
month total instead, so the days of a month also add up to the month's bill to the cent.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl

from tokenomics.home import Home
from tokenomics.lake import replace_partition
from tokenomics.money import cents as _cents
from tokenomics.money import from_cents as _from_cents
from tokenomics.money import largest_remainder as money_largest_remainder
from tokenomics.money import money as _money
from tokenomics.schema import MONEY, TOKEN_COLUMNS, UNATTRIBUTED, Schema

METHODS = ("proportional", "even", "weights", "unallocated")
UNALLOCATED = "unallocated"
SHARED_FEATURE = "(shared)"
MART = "allocation_daily"

GROUP = ["day", "provider"]
REQUIRED_DIRECT = ("day", "provider", "team", "feature", "direct_cost_usd")
REQUIRED_BILLED = ("day", "provider", "billed_cost_usd")


def allocate(
    direct: pl.DataFrame,
    billed: pl.DataFrame,
    method: str = "proportional",
    weights: dict[str, Decimal | int | float | str] | None = None,
) -> pl.DataFrame:
    """Bill per (day, provider) spread to the lines of `direct`; one output row per line.

    direct: day, provider, team, feature, direct_cost_usd, plus any extra key columns (e.g. model),
    which are kept. billed: day, provider, billed_cost_usd [, month_to_date_before_usd: the provider's
    bill from the 1st of the month to the day before, the same on every row of a provider-day].
    Output: the keys, direct_cost_usd, allocated_cost_usd, total_cost_usd (cents),
    allocation_method, allocation_basis, billed_cost_usd, residual_usd (of the provider-day, cents)
    and is_billed.
    """
    _check(direct, REQUIRED_DIRECT, "direct")
    _check(billed, REQUIRED_BILLED, "billed")
    if method not in METHODS:
        raise ValueError(f"allocation method '{method}' is not one of: {', '.join(METHODS)}")
    weight_of = {team: Decimal(str(w)) for team, w in (weights or {}).items() if Decimal(str(w)) > 0}
    if method == "weights" and not weight_of:
        raise ValueError("allocation method 'weights' needs at least one team with a positive weight")

    keys = [c for c in direct.columns if c != "direct_cost_usd"]
    extras = [c for c in keys if c not in ("day", "provider", "team", "feature")]
    lines = (
        direct.filter(pl.col("team") != UNATTRIBUTED)
        .with_columns(pl.col("direct_cost_usd").cast(MONEY).fill_null(0))
        .group_by(keys)
        .agg(pl.col("direct_cost_usd").sum())
    )
    groups = _groups(lines, billed, method)
    shares = pl.concat(
        [_direct_shares(lines, groups, weight_of), _extra_lines(lines, groups, weight_of, extras)],
        how="diagonal_relaxed",
    )
    out = shares.join(groups, on=GROUP, how="left").with_columns(
        (pl.col("residual_exact") * pl.col("share")).alias("allocated_exact")
    )
    out = out.sort([*GROUP, "team", "feature", *extras], nulls_last=True)
    out = largest_remainder(out, "direct_cost_usd", "direct_target_cents", pl.col("is_direct"), "direct_cents")
    out = out.with_columns(
        pl.when(pl.col("is_billed"))
        .then(pl.col("billed_target_cents") - pl.col("direct_cents").sum().over(GROUP))
        .otherwise(0)
        .alias("allocated_target_cents")
    )
    out = largest_remainder(out, "allocated_exact", "allocated_target_cents", pl.col("share") > 0, "allocated_cents")
    return out.select(
        *keys,
        _from_cents("direct_cents").alias("direct_cost_usd"),
        _from_cents("allocated_cents").alias("allocated_cost_usd"),
        _from_cents(pl.col("direct_cents") + pl.col("allocated_cents")).alias("total_cost_usd"),
        pl.lit(method).alias("allocation_method"),
        pl.col("basis").alias("allocation_basis"),
        pl.col("billed_cost_usd"),
        pl.when(pl.col("is_billed"))
        .then(_from_cents(pl.col("allocated_cents").sum().over(GROUP)))
        .alias("residual_usd"),
        pl.col("is_billed"),
    )


def _check(frame: pl.DataFrame, required: tuple[str, ...], name: str) -> None:
    if missing := [c for c in required if c not in frame.columns]:
        raise ValueError(f"allocate: {name} frame lacks column(s) {', '.join(missing)}")


# --------------------------------------------------------------------------------------------
# shares


def _groups(lines: pl.DataFrame, billed: pl.DataFrame, method: str) -> pl.DataFrame:
    """One row per (day, provider): bill, direct total, residual, cent targets and the basis used."""
    before = (
        pl.col("month_to_date_before_usd").cast(MONEY).first()
        if "month_to_date_before_usd" in billed.columns
        else pl.lit(Decimal(0), MONEY)
    )
    bills = (
        billed.with_columns(pl.col("billed_cost_usd").cast(MONEY))
        .group_by(GROUP)
        .agg(pl.col("billed_cost_usd").sum(), before.alias("before"))
    )
    direct = lines.group_by(GROUP).agg(
        pl.col("direct_cost_usd").sum().alias("direct_total"), pl.col("team").n_unique().alias("n_teams")
    )
    by_day = lines.group_by("day").agg(
        pl.col("direct_cost_usd").clip(lower_bound=0).sum().alias("day_direct"),
        pl.col("team").n_unique().alias("day_teams"),
    )
    groups = (
        bills.join(direct, on=GROUP, how="full", coalesce=True)
        .join(by_day, on="day", how="left")
        .with_columns(
            pl.col("billed_cost_usd").is_not_null().alias("is_billed"),
            pl.col("direct_total").fill_null(Decimal(0)),
            pl.col("n_teams").fill_null(0),
            pl.col("day_direct").fill_null(Decimal(0)),
            pl.col("day_teams").fill_null(0),
        )
    )
    fallback = (
        pl.when(pl.col("day_direct") > 0).then(pl.lit("all_providers_direct_cost")).otherwise(pl.lit(UNALLOCATED))
        if method == "proportional"
        else pl.when(pl.col("day_teams") > 0).then(pl.lit("even_all_providers")).otherwise(pl.lit(UNALLOCATED))
    )
    basis = {
        "proportional": pl.when(pl.col("direct_total") > 0).then(pl.lit("direct_cost")).otherwise(fallback),
        "even": pl.when(pl.col("n_teams") > 0).then(pl.lit("even")).otherwise(fallback),
        "weights": pl.lit("weights"),
        "unallocated": pl.lit(UNALLOCATED),
    }[method]
    before, billed_total = pl.col("before"), pl.col("before") + pl.col("billed_cost_usd")
    return groups.with_columns(
        pl.when(pl.col("is_billed")).then(basis).otherwise(pl.lit("unbilled")).alias("basis"),
        (pl.col("billed_cost_usd") - pl.col("direct_total")).fill_null(Decimal(0)).alias("residual_exact"),
        pl.when(pl.col("is_billed"))
        .then(_cents(billed_total) - _cents(before))
        .otherwise(0)
        .alias("billed_target_cents"),
        _cents(pl.col("direct_total")).alias("direct_target_cents"),
    )


def _direct_shares(lines: pl.DataFrame, groups: pl.DataFrame, weight_of: dict[str, Decimal]) -> pl.DataFrame:
    """Each direct line with its share of its provider-day residual (0 when the basis passes it by)."""
    team_total = pl.col("direct_cost_usd").clip(lower_bound=0).sum().over([*GROUP, "team"])
    within_team = (
        pl.when(team_total > 0)
        .then(pl.col("direct_cost_usd").clip(lower_bound=0) / team_total)
        .otherwise(pl.lit(Decimal(1), MONEY) / pl.len().over([*GROUP, "team"]).cast(MONEY))
    )
    weight = _weight_expr(weight_of)
    basis = pl.col("basis")
    share = (
        pl.when(basis == "direct_cost")
        .then(pl.col("direct_cost_usd").clip(lower_bound=0) / pl.col("direct_total"))
        .when(basis == "even")
        .then(within_team / pl.col("n_teams").cast(MONEY))
        .when(basis == "weights")
        .then(within_team * weight / _money(sum(weight_of.values(), Decimal(0)) or 1))
        .otherwise(_money(0))
    )
    return (
        lines.join(groups.select(*GROUP, "basis", "direct_total", "n_teams"), on=GROUP, how="left")
        .with_columns(share.cast(MONEY).alias("share"), pl.lit(True).alias("is_direct"))
        .drop("basis", "direct_total", "n_teams")
    )


def _extra_lines(
    lines: pl.DataFrame, groups: pl.DataFrame, weight_of: dict[str, Decimal], extras: list[str]
) -> pl.DataFrame:
    """Residual-only lines: fallback '(shared)' lines, weighted teams absent that day, 'unallocated'."""
    team_day = lines.group_by("day", "team").agg(pl.col("direct_cost_usd").clip(lower_bound=0).sum().alias("team_day"))
    spread = groups.filter(pl.col("basis").is_in(["all_providers_direct_cost", "even_all_providers"])).join(
        team_day, on="day"
    )
    fallback = spread.with_columns(
        pl.when(pl.col("basis") == "all_providers_direct_cost")
        .then(pl.col("team_day") / pl.col("day_direct"))
        .otherwise(pl.lit(Decimal(1), MONEY) / pl.col("day_teams").cast(MONEY))
        .alias("share")
    )
    parts = [fallback.select(*GROUP, "team", "share")]
    if weight_of:
        listed = pl.DataFrame(
            {"team": list(weight_of), "share": [w / sum(weight_of.values()) for w in weight_of.values()]},
            schema={"team": pl.String, "share": MONEY},
        )
        present = lines.select(*GROUP, "team").unique()
        absent = (
            groups.filter(pl.col("basis") == "weights")
            .select(GROUP)
            .join(listed, how="cross")
            .join(present, on=[*GROUP, "team"], how="anti")
        )
        parts.append(absent.select(*GROUP, "team", "share"))
    unallocated = groups.filter(pl.col("basis") == UNALLOCATED).select(
        *GROUP, pl.lit(UNALLOCATED).alias("team"), pl.lit(Decimal(1), MONEY).alias("share")
    )
    parts.append(unallocated)
    extra = pl.concat([p.with_columns(pl.col("share").cast(MONEY)) for p in parts], how="vertical_relaxed")
    feature = pl.when(pl.col("team") == UNALLOCATED).then(pl.lit(UNALLOCATED)).otherwise(pl.lit(SHARED_FEATURE))
    return extra.with_columns(
        feature.alias("feature"),
        pl.lit(Decimal(0), MONEY).alias("direct_cost_usd"),
        pl.lit(False).alias("is_direct"),
        *[pl.lit(None, lines.schema[c]).alias(c) for c in extras],
    )


def _weight_expr(weight_of: dict[str, Decimal]) -> pl.Expr:
    if not weight_of:
        return _money(0)
    return pl.col("team").replace_strict({t: w for t, w in weight_of.items()}, default=Decimal(0), return_dtype=MONEY)


# --------------------------------------------------------------------------------------------
# cents: the rule lives in tokenomics.money


def largest_remainder(
    frame: pl.DataFrame, value: str, target: str, eligible: pl.Expr, out: str, group: list[str] = GROUP
) -> pl.DataFrame:
    """`money.largest_remainder` grouped by (day, provider) unless told otherwise."""
    return money_largest_remainder(frame, value, target, eligible, out, group)


# --------------------------------------------------------------------------------------------
# the allocation_daily mart


def direct_cost_frame(usage: str) -> pl.DataFrame:
    """Gateway cost, tokens and price references per day, provider, team, feature and model of usage_events."""
    return (
        pl.scan_parquet(usage)
        .group_by("day", "provider", "team", "feature", pl.coalesce("model_id", "model").alias("model"))
        .agg(
            pl.col("cost_usd").cast(MONEY).sum().fill_null(Decimal(0)).alias("direct_cost_usd"),
            pl.col("requests").sum(),
            *[pl.col(c).sum() for c in TOKEN_COLUMNS],
            pl.col("price_ref").drop_nulls().unique().sort().str.join("; ").alias("price_refs"),
        )
        .collect()
    )


def billed_total_frame(billing: str | list[str]) -> pl.DataFrame:
    """What each provider's bill charges per day in USD: EffectiveCost, after discounts and credits.

    GCP carries promotional credits on the usage line (effective = cost + credits), so BilledCost
    before credits would over-charge; other currencies are not converted here and are left out.
    """
    owed = pl.coalesce(pl.col("effective_cost"), pl.col("billed_cost")).cast(MONEY)
    return (
        pl.scan_parquet(billing)
        .filter(pl.col("billing_currency") == "USD")
        .group_by("day", "provider")
        .agg(owed.sum().alias("billed_cost_usd"))
        .collect()
    )


def build_allocation_day(home: Home, day: date | str, method: str = "proportional", weights=None) -> int:
    """Write lake/marts/allocation_daily/day=D/: allocate() of day D plus the lines' tokens and price refs.

    Billing partitions of the month's earlier days give month_to_date_before_usd, so a month of
    allocation_daily sums to the month's bill to the cent.
    """
    day = date.fromisoformat(day) if isinstance(day, str) else day
    usage = _partition_glob(home, "usage_events", day)
    direct = direct_cost_frame(usage) if usage else _empty_direct()
    billing = [g for g in [_partition_glob(home, "billing_lines", day)] if g]
    earlier = [g for d in _month_days_before(day) if (g := _partition_glob(home, "billing_lines", d))]
    before = (
        _billed_or_empty(earlier)
        .group_by("provider")
        .agg(pl.col("billed_cost_usd").sum().alias("month_to_date_before_usd"))
    )
    billed = (
        _billed_or_empty(billing)
        .join(before, on="provider", how="left")
        .with_columns(pl.col("month_to_date_before_usd").fill_null(Decimal(0)))
    )
    keys = ["day", "provider", "team", "feature", "model"]
    allocated = allocate(direct.select(*keys, "direct_cost_usd"), billed, method, weights)
    details = direct.select(*keys, "requests", *TOKEN_COLUMNS, "price_refs")
    frame = allocated.join(details, on=keys, how="left", nulls_equal=True)
    return replace_partition(home.mart_day(MART, day), frame)


def _billed_or_empty(globs: list[str]) -> pl.DataFrame:
    if globs:
        return billed_total_frame(globs)
    return pl.DataFrame(schema={"day": pl.Date, "provider": pl.String, "billed_cost_usd": MONEY})


def _partition_glob(home: Home, table: str, day: date) -> str | None:
    folder = home.table_day(table, day)
    return str(folder / "*.parquet") if folder.exists() and any(folder.glob("*.parquet")) else None


def _month_days_before(day: date) -> list[date]:
    return [day.replace(day=1) + timedelta(days=i) for i in range(day.day - 1)]


def _empty_direct() -> pl.DataFrame:
    schema: Schema = {
        "day": pl.Date,
        "provider": pl.String,
        "team": pl.String,
        "feature": pl.String,
        "model": pl.String,
        "direct_cost_usd": MONEY,
        "requests": pl.Int64,
        **{c: pl.Int64 for c in TOKEN_COLUMNS},
        "price_refs": pl.String,
    }
    return pl.DataFrame(schema=schema)
