"""Money rounding, in one place: whole cents half away from zero, and largest-remainder splits.

Bills round an amount to the cent half away from zero (0.005 -> 0.01, -0.005 -> -0.01), so that is
the rule here, for Decimal values and for Polars Decimal columns alike. Rounding each line of a
split on its own loses or invents cents (three thirds of $1.00 are 0.33 x 3 = 0.99); a split is
therefore rounded as a whole: every line floored to cents and the cents still missing handed to the
lines with the largest remainders (Hamilton's method), so the lines add up to the rounded total
exactly. Allocation, chargeback and the FOCUS export all round through these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import polars as pl

from tokenomics.schema import MONEY

CENT = Decimal("0.01")
CENTS = pl.Decimal(38, 2)
"""A column of whole-cent amounts (statements, CSV exports)."""


def to_cents(value: Decimal | int | str) -> Decimal:
    """`value` rounded to the cent, half away from zero (how bills round)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value) -> pl.Expr:
    """A Decimal money literal for Polars expressions."""
    return pl.lit(Decimal(value), MONEY)


def cents(expr: pl.Expr) -> pl.Expr:
    """Whole cents (Int64) of a money expression, half away from zero: the column twin of `to_cents`."""
    scaled = expr.cast(MONEY) * 100
    return (scaled.abs() + money("0.5")).floor().cast(pl.Int64) * pl.when(scaled < 0).then(-1).otherwise(1)


def from_cents(expr: pl.Expr | str) -> pl.Expr:
    """Whole cents (Int64) back to a money column."""
    expr = pl.col(expr) if isinstance(expr, str) else expr
    return expr.cast(MONEY) / money(100)


def apportion(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`to_cents(total)` split in proportion to `weights`, in cents that add up to it exactly.

    The scalar twin of `largest_remainder`, for a handful of lines (a statement, a test oracle).
    Ties go to the earlier line. All-zero weights split evenly.
    """
    target = int(to_cents(total) * 100)
    weights = [Decimal(w) for w in weights]
    if not weights:
        return []
    whole = sum(weights)
    exact = [Decimal(target) * w / whole for w in weights] if whole else [Decimal(target) / len(weights)] * len(weights)
    floors = [int(e.to_integral_value(ROUND_FLOOR)) for e in exact]
    missing = target - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    n = len(order)
    for rank, i in enumerate(order):
        floors[i] += missing // n + (1 if rank < missing % n else 0)
    return [Decimal(c) / 100 for c in floors]


def largest_remainder(
    frame: pl.DataFrame, value: str, target: str, eligible: pl.Expr, out: str, group: list[str]
) -> pl.DataFrame:
    """Round `value` to whole cents (column `out`, Int64) so each group sums to its `target` cents exactly.

    Every eligible line is floored; the cents still missing (k, possibly negative or more than the
    number of lines) are handed out one by one in order of largest remainder, cycling if needed.
    Frame order breaks ties, so the caller sorts first for a deterministic result.
    """
    scaled = pl.col(value).fill_null(Decimal(0)).cast(MONEY) * 100
    floor = scaled.floor()
    frame = frame.with_columns(
        pl.when(eligible).then(floor.cast(pl.Int64)).otherwise(0).alias("_floor"),
        pl.when(eligible).then(scaled - floor).otherwise(None).alias("_rem"),
        eligible.alias("_eligible"),
    )
    k = pl.col(target) - pl.col("_floor").sum().over(group)
    m = pl.col("_eligible").cast(pl.Int64).sum().over(group)
    rank = pl.col("_rem").rank("ordinal", descending=True).over(group).cast(pl.Int64)
    extra = pl.when(m > 0).then(k // m + (rank <= k % m).cast(pl.Int64)).otherwise(0)
    return frame.with_columns(
        (pl.col("_floor") + pl.when(pl.col("_eligible")).then(extra).otherwise(0)).alias(out)
    ).drop("_floor", "_rem", "_eligible")
