"""Score the anomaly detector on injected anomalies and print a table (issue 6, "Quality, measured").

    python benchmarks/score_detector.py --home DIR            # a `tokenomics generate` home
    python benchmarks/score_detector.py --usage U --injected A
    python benchmarks/score_detector.py --synthetic 1 2 3     # this folder's own synthetic company

With --home, usage comes from the published warehouse (usage_daily, priced by the pipeline) when
it exists, else from truth/usage_daily.parquet priced with the installed catalog. Injected anomalies
come from truth/anomalies.parquet. Metric definitions: tokenomics/anomalies/scoring.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tokenomics.anomalies.metrics import default_metrics
from tokenomics.anomalies.scoring import evaluate


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, try_parse_dates=True) if path.suffix.lower() == ".csv" else pl.read_parquet(path)


def usage_from_home(home: Path) -> tuple[pl.DataFrame, str]:
    warehouse = home / "warehouse.duckdb"
    if warehouse.exists():
        import duckdb

        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            if con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'usage_daily'"
            ).fetchall()[0][0]:
                return con.sql("SELECT * FROM usage_daily").pl(), "warehouse usage_daily"
        finally:
            con.close()
    truth = _read(home / "truth" / "usage_daily.parquet")
    try:
        from tokenomics.pricing.frame import price_usage
    except ImportError:
        return truth, "truth usage_daily (tokens, unpriced)"
    return price_per_request(truth, price_usage), "truth usage_daily, catalog-priced"


def price_per_request(truth: pl.DataFrame, price_usage) -> pl.DataFrame:
    """Price each daily row as `requests` average requests, not as one giant request.

    Pricing a day's summed tokens as one row would cross per-request tiers (Gemini's >200k input
    tier) that no single request crosses, and make the day's cost jump for no reason.
    """
    tokens = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"]
    per_request = truth.with_columns(
        [(pl.col(c) / pl.col("requests").clip(lower_bound=1)).round(0).cast(pl.Int64) for c in tokens]
    )
    priced = price_usage(per_request)
    return truth.with_columns(
        (priced["cost_usd"] * truth["requests"].cast(pl.Decimal(38, 0))).cast(pl.Decimal(38, 12)).alias("cost_usd")
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, action="append", default=[])
    ap.add_argument("--usage", type=Path)
    ap.add_argument("--injected", type=Path)
    ap.add_argument("--synthetic", type=int, nargs="*", default=[])
    ap.add_argument("--min-cost-usd", type=float, default=None, help="absolute dollar gate (default: detector default)")
    ap.add_argument("--verbose", action="store_true", help="also print every incident")
    args = ap.parse_args(argv)

    metrics = default_metrics() if args.min_cost_usd is None else default_metrics(min_cost_impact_usd=args.min_cost_usd)
    datasets: list[tuple[str, pl.DataFrame, pl.DataFrame]] = []
    for home in args.home:
        usage, what = usage_from_home(home)
        datasets.append((f"{home.name} ({what})", usage, _read(home / "truth" / "anomalies.parquet")))
    if args.usage:
        if not args.injected:
            ap.error("--usage needs --injected")
        datasets.append((args.usage.name, _read(args.usage), _read(args.injected)))
    if args.synthetic:
        from synthetic_usage import synthetic_company

        for seed in args.synthetic:
            usage, injected = synthetic_company(seed)
            datasets.append((f"synthetic seed {seed}", usage, injected))
    if not datasets:
        ap.error("give --home, --usage/--injected or --synthetic")

    rows, kinds = [], {}
    for name, usage, injected in datasets:
        score, incidents = evaluate(usage, injected, metrics)
        rows.append({"data set": name, "days": usage["day"].n_unique(), **score.as_dict()})
        for kind, (hit, total) in score.by_kind.items():
            h, t = kinds.get(kind, (0, 0))
            kinds[kind] = (h + hit, t + total)
        if args.verbose:
            with pl.Config(tbl_rows=200, fmt_str_lengths=200, tbl_width_chars=250):
                print(injected)
                print(incidents.select("day", "team", "severity", "kind", "explanation"))
    table = pl.DataFrame(rows)
    if len(rows) > 1:
        events, detected = table["events"].sum(), table["detected"].sum()
        alerts, true_alerts = table["alerts"].sum(), table["true_alerts"].sum()
        total = {
            "data set": "all",
            "days": table["days"].sum(),
            "events": events,
            "detected": detected,
            "recall": round(detected / events, 3) if events else 1.0,
            "alerts": alerts,
            "true_alerts": true_alerts,
            "precision": round(true_alerts / alerts, 3) if alerts else 1.0,
            "median_delay_days": table["median_delay_days"].median(),
            "false_alerts": table["false_alerts"].sum(),
            "false_per_100_series_weeks": round(table["false_per_100_series_weeks"].mean(), 3),
        }
        table = pl.concat([table, pl.DataFrame([total], schema=table.schema)])
    with pl.Config(tbl_rows=100, tbl_cols=-1, tbl_width_chars=250, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
        print(table)
        print(pl.DataFrame([{"kind": k, "detected": h, "events": t} for k, (h, t) in sorted(kinds.items())]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
