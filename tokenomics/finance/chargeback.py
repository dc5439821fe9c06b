"""Monthly chargeback: the per-team totals table and one statement per team that finance can forward.

A statement shows what a team is charged for a month and why: its direct (attributed) cost per
provider, feature and model with the price references used, its share of each provider's residual
and the method that spread it, and whether each provider's cost is reconciled to a bill. Every
amount is whole cents from allocation_daily, so lines, providers and totals add up exactly.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import cast

import duckdb
import polars as pl

from tokenomics.home import Home
from tokenomics.lake import replace_partition
from tokenomics.marts import sql_frame
from tokenomics.money import CENTS, to_cents
from tokenomics.schema import TOKEN_COLUMNS

MART = "chargeback_monthly"

METHOD_TEXT = {
    "proportional": "in proportion to each team's direct cost on that provider and day",
    "even": "equally across the teams that used that provider that day",
    "weights": "by the fixed team weights in tokenomics.yaml",
    "unallocated": "not spread: it stays on its own 'unallocated' line",
}
BASIS_TEXT = {
    "all_providers_direct_cost": "on provider-days without gateway traffic, by each team's share of that day's "
    "direct cost on all providers",
    "even_all_providers": "on provider-days without gateway traffic, equally across that day's teams",
    "unallocated": "on days without any attributed gateway cost, kept as 'unallocated'",
    "unbilled": "provider-days without a bill keep the gateway estimate (not reconciled)",
}


def chargeback_monthly(allocation: str | Path | pl.DataFrame) -> pl.DataFrame:
    """sql/chargeback_monthly.sql over allocation_daily (a Parquet glob, or a frame)."""
    if isinstance(allocation, pl.DataFrame):
        scratch = Path(tempfile.mkdtemp(prefix=".chargeback-"))
        try:
            allocation.write_parquet(scratch / "allocation.parquet")
            return sql_frame(MART, {"allocation": str(scratch / "allocation.parquet")})
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return sql_frame(MART, {"allocation": str(allocation)})


def build_chargeback_month(home: Home, month: str) -> int:
    """Rewrite lake/marts/chargeback_monthly/month=YYYY-MM/ from that month's allocation_daily days.

    Re-run it for the month of any day whose allocation changed; a month without allocation
    days loses its partition. Returns the row count.
    """
    _check_month(month)
    folder = home.mart_month(MART, month)
    days = home.mart_month_files("allocation_daily", month)
    if not days:
        shutil.rmtree(folder, ignore_errors=True)
        return 0
    return replace_partition(folder, sql_frame(MART, {"allocation": days}))


def load_month(source: str | Path | Mapping[str, pl.DataFrame], month: str) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """allocation_daily and (if published) reconciliation_daily rows of `month` (YYYY-MM).

    `source` is warehouse.duckdb or a mapping of table name to frame.
    """
    _check_month(month)
    if isinstance(source, Mapping):
        frames = {name: frame for name, frame in source.items() if name in ("allocation_daily", "reconciliation_daily")}
    else:
        frames = _read_warehouse(Path(source), month)
    if "allocation_daily" not in frames:
        raise ValueError("chargeback needs the allocation_daily table (run the pipeline's allocation step first)")
    in_month = pl.col("day").dt.strftime("%Y-%m") == month
    allocation = frames["allocation_daily"].filter(in_month)
    recon = frames.get("reconciliation_daily")
    return allocation, (recon.filter(in_month) if recon is not None else None)


def write_statements(source: str | Path | Mapping[str, pl.DataFrame], month: str, out_dir: Path) -> list[Path]:
    """Write out_dir/<month>/<team>.csv and <team>.md for every team charged in `month`; returns the paths."""
    allocation, recon = load_month(source, month)
    if allocation.is_empty():
        raise ValueError(f"no allocated costs for {month}: nothing to charge back")
    folder = Path(out_dir) / month
    folder.mkdir(parents=True, exist_ok=True)
    bills = _bill_status(allocation)
    recon_status = _reconciliation_status(recon)
    paths = []
    for team in sorted(allocation["team"].unique().to_list()):
        rows = allocation.filter(pl.col("team") == team)
        lines = _line_items(rows, bills)
        stem = _file_stem(team)
        csv_path, md_path = folder / f"{stem}.csv", folder / f"{stem}.md"
        _statement_csv(lines, month, team).write_csv(csv_path)
        md_path.write_text(_statement_markdown(team, month, rows, lines, allocation, bills, recon_status), "utf-8")
        paths += [csv_path, md_path]
    return paths


# --------------------------------------------------------------------------------------------
# inputs


def _check_month(month: str) -> None:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError(f"month must be YYYY-MM, got '{month}'")


def _read_warehouse(path: Path, month: str) -> dict[str, pl.DataFrame]:
    if not path.exists():
        raise ValueError(f"warehouse not found: {path}")
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        out: dict[str, pl.DataFrame] = {}
        for name in ("allocation_daily", "reconciliation_daily"):
            if name in tables:
                relation = con.sql(
                    f"SELECT * FROM \"{name}\" WHERE strftime(day, '%Y-%m') = $month", params={"month": month}
                )
                frame = pl.from_arrow(relation.to_arrow_table())
                assert isinstance(frame, pl.DataFrame)  # a table converts to a frame, never a Series
                out[name] = frame
        return out
    finally:
        con.close()


def _bill_status(allocation: pl.DataFrame) -> pl.DataFrame:
    """Per provider over the month: billed days, days, the provider's residual (all teams) and a status."""
    per_day = allocation.group_by("provider", "day").agg(
        pl.col("is_billed").any().alias("billed"), pl.col("residual_usd").first().fill_null(Decimal(0))
    )
    return (
        per_day.group_by("provider")
        .agg(
            pl.col("billed").sum().cast(pl.Int64).alias("billed_days"),
            pl.len().cast(pl.Int64).alias("days"),
            pl.col("residual_usd").sum().alias("provider_residual_usd"),
        )
        .with_columns(
            pl.when(pl.col("billed_days") == pl.col("days"))
            .then(pl.lit("reconciled"))
            .when(pl.col("billed_days") > 0)
            .then(pl.lit("partly_reconciled"))
            .otherwise(pl.lit("unbilled"))
            .alias("reconciliation_status")
        )
    )


def _reconciliation_status(recon: pl.DataFrame | None) -> pl.DataFrame | None:
    """Per provider: billed and gateway totals of the month, capture rate and the largest gap cause."""
    if recon is None or recon.is_empty():
        return None
    totals = recon.group_by("provider").agg(
        pl.col("billed_cost_usd").sum(), pl.col("gateway_cost_usd").sum(), pl.col("gap_usd").sum()
    )
    if "likely_cause" not in recon.columns:
        return totals.with_columns(pl.lit(None, pl.String).alias("main_cause"))
    causes = (
        recon.filter(pl.col("likely_cause") != "matched")
        .group_by("provider", "likely_cause")
        .agg(pl.col("gap_usd").abs().sum().alias("weight"))
        .sort("weight", "likely_cause", descending=[True, False])
        .group_by("provider", maintain_order=True)
        .agg(pl.col("likely_cause").first().alias("main_cause"))
    )
    return totals.join(causes, on="provider", how="left")


def _line_items(rows: pl.DataFrame, bills: pl.DataFrame) -> pl.DataFrame:
    """One line per provider, feature and model (residual-only '(shared)' lines have no model)."""
    tokens = [c for c in TOKEN_COLUMNS if c in rows.columns]
    extra = [pl.col(c).sum() for c in ("requests", *tokens) if c in rows.columns]
    refs = (
        pl.col("price_refs").drop_nulls().str.split("; ").explode().unique().sort().str.join("; ")
        if "price_refs" in rows.columns
        else pl.lit(None, pl.String)
    )
    model = pl.col("model") if "model" in rows.columns else pl.lit(None, pl.String).alias("model")
    return (
        rows.with_columns(model)
        .group_by("provider", "feature", "model")
        .agg(
            *extra,
            pl.col("direct_cost_usd").sum(),
            pl.col("allocated_cost_usd").sum(),
            pl.col("total_cost_usd").sum(),
            pl.col("allocation_method").unique().sort().str.join(", "),
            refs.alias("price_refs"),
        )
        .join(bills.select("provider", "reconciliation_status"), on="provider", how="left")
        .with_columns(
            pl.when(pl.col("direct_cost_usd") == 0)
            .then(pl.lit("residual"))
            .otherwise(pl.lit("usage"))
            .alias("line_type")
        )
        .sort("provider", "feature", "model", nulls_last=True)
    )


# --------------------------------------------------------------------------------------------
# CSV


def _statement_csv(lines: pl.DataFrame, month: str, team: str) -> pl.DataFrame:
    """Line items plus one total row; money as plain decimals with two places."""
    money = ["direct_cost_usd", "allocated_cost_usd", "total_cost_usd"]
    counts = [c for c in ("requests", *TOKEN_COLUMNS) if c in lines.columns]
    body = lines.select(
        pl.lit(month).alias("month"),
        pl.lit(team).alias("team"),
        "line_type",
        "provider",
        "feature",
        "model",
        *counts,
        *money,
        "allocation_method",
        "reconciliation_status",
        "price_refs",
    )
    total = pl.DataFrame(
        {"month": [month], "team": [team], "line_type": ["total"], **{c: [body[c].sum()] for c in counts + money}},
    )
    out = pl.concat([body, total], how="diagonal_relaxed")
    return out.with_columns(*[pl.col(c).cast(CENTS) for c in money])


# --------------------------------------------------------------------------------------------
# Markdown


def _usd(value) -> str:
    value = to_cents(Decimal(value or 0))  # the money rule, not format()'s half-even
    return f"{value:,.2f}" if value >= 0 else f"-{-value:,.2f}"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _statement_markdown(
    team: str,
    month: str,
    rows: pl.DataFrame,
    lines: pl.DataFrame,
    allocation: pl.DataFrame,
    bills: pl.DataFrame,
    recon: pl.DataFrame | None,
) -> str:
    direct, allocated, total = (rows[c].sum() for c in ("direct_cost_usd", "allocated_cost_usd", "total_cost_usd"))
    billed = rows.filter(pl.col("is_billed"))["total_cost_usd"].abs().sum()
    every = rows["total_cost_usd"].abs().sum()
    share = f"{Decimal(billed) * 100 / Decimal(every):.1f}%" if every else "n/a"
    first, last = cast(date, allocation["day"].min()), cast(date, allocation["day"].max())
    methods = sorted(set(allocation["allocation_method"]))
    bases = sorted(set(rows["allocation_basis"]) - {"direct_cost", "even", "weights"})
    title_month = date.fromisoformat(f"{month}-01").strftime("%B %Y")
    out = [
        f"# LLM chargeback statement: {team}, {title_month}",
        "",
        f"Period {first} to {last} (UTC days with data) · Currency USD · Generated by Tokenomics from provider "
        "bills and gateway usage",
        "",
        _table(
            ["", "USD"],
            [
                ["Direct cost (usage the gateway attributed to this team)", _usd(direct)],
                ["Allocated share of the residual", _usd(allocated)],
                ["**Total to charge**", f"**{_usd(total)}**"],
                ["Share of the total reconciled to provider bills", share],
            ],
            {1},
        ),
        "",
        "**Allocation method:** "
        + "; ".join(f"{m}: the residual is spread {METHOD_TEXT[m]}" for m in methods)
        + ". The residual of a provider's bill is the bill minus all usage the gateway attributed to teams: "
        "traffic outside the gateway or without a team, discounts, credits and commitments.",
    ]
    if bases:
        out += ["", "Also: " + "; ".join(BASIS_TEXT[b] for b in bases) + "."]
    out += ["", "## By provider", ""]
    team_by_provider = (
        rows.group_by("provider")
        .agg(pl.col("direct_cost_usd").sum(), pl.col("allocated_cost_usd").sum(), pl.col("total_cost_usd").sum())
        .join(bills, on="provider", how="left")
        .sort("provider")
    )
    out.append(
        _table(
            ["Provider", "Direct", "Allocated residual", "Total", "Provider residual (all teams)", "Bill"],
            [
                [
                    r["provider"],
                    _usd(r["direct_cost_usd"]),
                    _usd(r["allocated_cost_usd"]),
                    _usd(r["total_cost_usd"]),
                    _usd(r["provider_residual_usd"]),
                    f"{r['reconciliation_status']} ({r['billed_days']} of {r['days']} days)",
                ]
                for r in team_by_provider.iter_rows(named=True)
            ],
            {1, 2, 3, 4},
        )
    )
    out += ["", "## Line items", ""]
    out.append(
        _table(
            [
                "Provider",
                "Feature",
                "Model",
                "Requests",
                "Input tokens",
                "Output tokens",
                "Direct",
                "Allocated",
                "Total",
                "Price reference",
            ],
            [
                [
                    r["provider"],
                    r["feature"],
                    r["model"] or "(residual share)",
                    *_counts(r),
                    _usd(r["direct_cost_usd"]),
                    _usd(r["allocated_cost_usd"]),
                    _usd(r["total_cost_usd"]),
                    r["price_refs"] or "",
                ]
                for r in lines.iter_rows(named=True)
            ]
            + [["**Total**", "", "", "", "", "", *[f"**{_usd(v)}**" for v in (direct, allocated, total)], ""]],
            {3, 4, 5, 6, 7, 8},
        )
    )
    if recon is not None:
        mine = recon.join(team_by_provider.select("provider"), on="provider", how="semi").sort("provider")
        out += ["", "## Reconciliation with provider bills (all teams)", ""]
        out.append(
            _table(
                ["Provider", "Billed", "Gateway estimate", "Capture rate", "Main cause of the gap"],
                [
                    [
                        r["provider"],
                        _usd(r["billed_cost_usd"]),
                        _usd(r["gateway_cost_usd"]),
                        f"{Decimal(r['gateway_cost_usd']) * 100 / Decimal(r['billed_cost_usd']):.1f}%"
                        if r["billed_cost_usd"]
                        else "n/a",
                        r["main_cause"] or "matched",
                    ]
                    for r in mine.iter_rows(named=True)
                ],
                {1, 2, 3},
            )
        )
    out += [
        "",
        "## Notes",
        "",
        "- Amounts are USD rounded to cents; line items add up to the totals exactly, and per provider and day all "
        "teams' totals add up to the provider's bill.",
        "- Direct cost is priced from the token counts with the price reference shown (catalog version or "
        "negotiated override); the allocated residual brings the total to the billed amount.",
        "- 'reconciled' means every day of that provider's cost is matched to a bill; 'unbilled' days carry the "
        "gateway estimate until the provider's bill arrives.",
        "",
    ]
    return "\n".join(out)


def _counts(line: dict) -> list[str]:
    """Requests, input and output tokens of a line; blank on residual-only lines."""
    values = [line.get(c) for c in ("requests", "input_tokens", "output_tokens")]
    return [f"{int(v):,}" if v is not None and line["line_type"] != "residual" else "" for v in values]


def _file_stem(team: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", team).strip("._") or "team"
