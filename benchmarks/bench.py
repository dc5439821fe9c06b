"""`make bench`: rows/s and peak memory per pipeline stage on one generated day, against a DuckDB baseline.

Each stage runs in its own Python process so its peak RSS is its own. The baseline is DuckDB alone
parsing the same raw gateway files and writing Parquet: the floor for this job on this machine.
`--scaling` runs every stage on days of N/4, N/2 and N events: their peak RSS must stay flat.
`--json FILE` writes every figure (per stage: rows, seconds, rows/s, peak RSS, ratio to the baseline)
so runs can be compared; `python benchmarks/readme_table.py FILE` regenerates the README's table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = date(2026, 6, 3)
STAGES = ["generate", "baseline_duckdb", "read_normalize", "ingest", "validate", "usage_daily", "publish", "bi_year"]
SCALING_STAGES = STAGES[1:-1]
"""Every stage but the generator (it makes the input) and the year of history (its size is fixed)."""
UNJUDGED = ("generate", "baseline_duckdb")
"""Shown in --scaling, not judged: the generator makes the input, the baseline is DuckDB's own memory."""
BI_DAYS = 365
BI_REPEATS = 7
BI_BUDGET_MS = 20.0
FLAT = 1.15
"""Largest accepted peak-RSS ratio between the N-event and the N/4-event day of a pipeline stage. Chunks
are 200k-250k rows: below ~1M events a day is only a few chunks, so judge flatness with N of 4M or more."""


def _peak_rss_mb() -> float:
    """This process's own high-water RSS (VmHWM), read inside the stage's process."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1 << 20 if sys.platform == "darwin" else 1 << 10)


def _gateway_files(home):
    from tokenomics import sources
    from tokenomics.ingest import landing_files

    return [(s, p) for s in sources.GATEWAY_SOURCES if s in sources.available() for p in landing_files(home, s, DAY)]


def stage_generate(home, events: int) -> int:
    from tokenomics.generator import generate

    generate(home.root, DAY, 1, events, 42)
    return events


def stage_baseline_duckdb(home, events: int) -> int:
    """DuckDB parses the raw gateway files (JSONL + CSV) and writes Parquet: no normalization at all."""
    import duckdb

    con = duckdb.connect()
    rows = 0
    out = home.root / "baseline"
    out.mkdir(exist_ok=True)
    for i, (_source, path) in enumerate(_gateway_files(home)):
        reader = "read_csv_auto" if path.suffix == ".csv" else "read_json_auto"
        target = out / f"{i}.parquet"
        con.execute(f"COPY (SELECT * FROM {reader}(?)) TO '{target}' (FORMAT parquet)", [str(path)])
        rows += con.execute("SELECT count(*) FROM read_parquet(?)", [str(target)]).fetchone()[0]
    return rows


def stage_read_normalize(home, events: int) -> int:
    from tokenomics import sources
    from tokenomics.sources.normalize import FileCounts, normalize_chunks

    rows = 0
    for source, path in _gateway_files(home):
        counts = FileCounts(source, str(path))
        for _ in normalize_chunks(
            sources.reader(source).read(path), source=source, source_file=str(path), counts=counts
        ):
            pass
        rows += counts.read
    return rows


def stage_ingest(home, events: int) -> int:
    from tokenomics.config import load_config
    from tokenomics.ingest import usage_enricher, write_day

    config = load_config(home.config_file)
    report = write_day(
        home, DAY, _gateway_files(home), ["usage_events"], enrich={"usage_events": usage_enricher(config)}
    )
    return sum(f.read for f in report.files)


def stage_validate(home, events: int) -> int:
    """The usage_events suite streamed from the day's Parquet (`validate_parquet`): a bounded first
    pass for uniqueness and shares, then GX on chunks; the day is never loaded whole."""
    import duckdb

    from tokenomics.quality.runner import validate_parquet

    glob = str(home.table_day("usage_events", DAY) / "*.parquet")
    outcomes = validate_parquet("usage_events", glob)
    failed = [o.name for o in outcomes if not o.passed]
    if failed:
        print(f"  (validation failures: {failed})", file=sys.stderr)
    return duckdb.execute("SELECT count(*) FROM read_parquet(?)", [glob]).fetchone()[0]


def stage_usage_daily(home, events: int) -> int:
    from tokenomics.marts import build_mart_day

    build_mart_day(home, "usage_daily", DAY, {"events": str(home.table_day("usage_events", DAY) / "*.parquet")})
    import duckdb

    return duckdb.execute(
        "SELECT count(*) FROM read_parquet(?)", [str(home.table_day("usage_events", DAY) / "*.parquet")]
    ).fetchone()[0]


def stage_publish(home, events: int) -> int:
    from tokenomics.warehouse import publish

    return sum(publish(home, ["usage_daily"]).values())


BI_QUERIES = {
    "monthly cost by team": """
        SELECT date_trunc('month', day) AS month, team, sum(cost_usd) AS cost_usd
        FROM usage_daily GROUP BY ALL ORDER BY month, cost_usd DESC""",
    "one team's daily series": """
        SELECT day, sum(cost_usd) AS cost_usd, sum(requests) AS requests
        FROM usage_daily WHERE team = (SELECT min(team) FROM usage_daily) GROUP BY day ORDER BY day""",
    "top features, last 7 days": """
        SELECT team, feature, sum(cost_usd) AS cost_usd FROM usage_daily
        WHERE day > (SELECT max(day) FROM usage_daily) - INTERVAL 7 DAY
        GROUP BY ALL ORDER BY cost_usd DESC LIMIT 10""",
    "bill vs gateway per provider": """
        SELECT g.provider, g.month, g.gateway_cost_usd, b.billed_cost_usd
        FROM (SELECT provider, date_trunc('month', day) AS month, sum(cost_usd) AS gateway_cost_usd
              FROM usage_daily GROUP BY ALL) g
        LEFT JOIN (SELECT provider, date_trunc('month', day) AS month, sum(billed_cost_usd) AS billed_cost_usd
                   FROM billing_daily GROUP BY ALL) b USING (provider, month)
        ORDER BY g.month, g.provider""",
}
"""The usual BI questions, as a BI tool would send them to the published warehouse."""


def stage_bi_year(home, events: int) -> int:
    """A year of marts at this day's cardinality (the day's usage_daily, cost scaled per day, and a
    billing_daily per provider), published; each BI query timed on the warehouse (median of repeats)."""
    import statistics
    from datetime import timedelta

    import duckdb
    import polars as pl

    from tokenomics.home import Home
    from tokenomics.warehouse import publish

    day_rows = pl.read_parquet(home.mart_day("usage_daily", DAY) / "*.parquet")
    year = Home(home.root / "bi-year")
    for i in range(BI_DAYS):
        day = DAY - timedelta(days=i)
        factor = 0.8 + 0.4 * ((i * 7919) % 101) / 100  # deterministic day-to-day wobble
        rows = day_rows.with_columns(
            pl.lit(day).alias("day"), (pl.col("cost_usd") * pl.lit(factor)).cast(day_rows.schema["cost_usd"])
        )
        for name, frame in (("usage_daily", rows), ("billing_daily", _billing_day(rows, day))):
            folder = year.mart_day(name, day)
            folder.mkdir(parents=True, exist_ok=True)
            frame.write_parquet(folder / "part-0.parquet")
    published = publish(year, ["usage_daily", "billing_daily"])
    con = duckdb.connect(str(year.warehouse), read_only=True)
    timings = {}
    for name, sql in BI_QUERIES.items():
        con.execute(sql).fetchall()  # warm: a BI tool's second question, not the process's first
        runs = []
        for _ in range(BI_REPEATS):
            t0 = time.perf_counter()
            con.execute(sql).fetchall()
            runs.append((time.perf_counter() - t0) * 1000)
        timings[name] = round(statistics.median(runs), 2)
    con.close()
    _EXTRA["bi_query_ms"] = timings
    _EXTRA["bi_rows"] = published
    return published.get("usage_daily", 0)


def _billing_day(usage, day):
    import polars as pl

    money = usage.schema["cost_usd"]
    billed = usage.group_by("provider").agg((pl.col("cost_usd").sum() * pl.lit(1.03)).cast(money).alias("billed_cost"))
    return billed.select(
        pl.lit(day).alias("day"),
        "provider",
        "billed_cost",
        pl.col("billed_cost").alias("billed_cost_usd"),
        pl.col("billed_cost").alias("effective_cost_usd"),
        pl.lit("USD").alias("billing_currency"),
    ).sort("provider")


_EXTRA: dict = {}
"""Figures a stage reports beyond rows and seconds (e.g. per-query BI timings), printed with its line."""


def run_stage(name: str, home_dir: str, events: int) -> None:
    """Child process: run one stage, print one JSON line with rows, seconds and peak RSS."""
    from tokenomics.home import Home

    os.environ.setdefault("TOKENOMICS_HMAC_KEY", "bench-key")
    home = Home(Path(home_dir))
    t0 = time.perf_counter()
    rows = globals()[f"stage_{name}"](home, events)
    seconds = time.perf_counter() - t0
    print(json.dumps({"stage": name, "rows": rows, "seconds": seconds, "peak_rss_mb": _peak_rss_mb(), **_EXTRA}))


def _run_stages(console, names: list[str], work: Path, events: int) -> dict[str, dict]:
    """Run each stage in its own process on `work`; the JSON line each prints, by stage name."""
    results = {}
    for name in names:
        with console.status(f"{name} ({events:,} events) ..."):
            proc = subprocess.run(
                [sys.executable, __file__, "--stage", name, "--home", str(work), "--events", str(events)],
                capture_output=True,
                text=True,
            )
        if proc.returncode != 0:
            console.print(f"[red]{name} failed[/]\n{proc.stderr[-2000:]}")
            continue
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        if proc.stderr.strip():
            console.print(proc.stderr.strip()[-500:])
    return results


def figures(results: dict[str, dict]) -> list[dict]:
    """One record per stage: rows, seconds, rows/s, peak RSS (MiB) and the time ratio to the baseline."""
    base = results.get("baseline_duckdb", {}).get("seconds")
    records = []
    for r in results.values():
        extra = {k: v for k, v in r.items() if k not in ("stage", "rows", "seconds", "peak_rss_mb")}
        records.append(
            {
                "stage": r["stage"],
                "rows": r["rows"],
                "seconds": round(r["seconds"], 3),
                "rows_per_s": round(r["rows"] / r["seconds"]) if r["seconds"] else None,
                "peak_rss_mib": round(r["peak_rss_mb"], 1),
                "ratio_to_baseline": round(r["seconds"] / base, 3) if base else None,
                **extra,
            }
        )
    return records


def scaling(console, events: int, home: str | None) -> dict:
    """Every stage on days of N/4, N/2 and N events: peak RSS per size, and whether it stays flat."""
    import shutil

    from rich.table import Table

    sizes = [events // 4, events // 2, events]
    runs: dict[int, dict[str, dict]] = {}
    for size in sizes:
        work = Path(home) / f"events-{size}" if home else Path(tempfile.mkdtemp(prefix="tokenomics-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            runs[size] = _run_stages(console, ["generate", *SCALING_STAGES], work, size)
        finally:
            if not home:
                shutil.rmtree(work, ignore_errors=True)
    table = Table(
        "stage",
        *(f"{s:,} events" for s in sizes),
        f"N / N/4 (max {FLAT})",
        title="peak RSS and rows/s as the day grows",
    )
    flat, report = True, {}
    for name in ["generate", *SCALING_STAGES]:
        got = [runs[s].get(name) for s in sizes]
        cells = [f"{r['peak_rss_mb']:,.0f} MiB {r['rows'] / r['seconds']:,.0f}/s" if r else "failed" for r in got]
        ratio = got[-1]["peak_rss_mb"] / got[0]["peak_rss_mb"] if got[0] and got[-1] else float("inf")
        if name not in UNJUDGED:
            flat = flat and ratio <= FLAT
        report[name] = {
            "peak_rss_mib": [round(r["peak_rss_mb"], 1) if r else None for r in got],
            "ratio": round(ratio, 3),
        }
        table.add_row(name, *cells, f"[{'green' if ratio <= FLAT else 'red'}]{ratio:.2f}[/]")
    console.print(table)
    console.print("memory stays flat as the day grows" if flat else "[red]peak memory grows with the day[/]")
    return {"sizes": sizes, "stages": report, "flat": flat}


def _write_json(path: str, payload: dict) -> None:
    payload = {
        "date": date.today().isoformat(),
        "machine": {"cpus": os.cpu_count(), "memory_gib": _memory_gib(), "python": platform.python_version()},
        **payload,
    }
    Path(path).write_text(json.dumps(payload, indent=2) + "\n")


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30), 1)
    except (ValueError, OSError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="gateway events in the generated day")
    parser.add_argument("--home", default=None, help="work directory (default: a temp dir, removed after)")
    parser.add_argument(
        "--scaling", action="store_true", help="peak RSS of every stage at N/4, N/2 and N events (exit 1 if it grows)"
    )
    parser.add_argument("--json", metavar="FILE", help="write every figure as JSON (readme_table.py reads it)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        run_stage(args.stage, args.home, args.events)
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    if args.scaling:
        report = scaling(console, args.events, args.home)
        if args.json:
            _write_json(args.json, {"events": args.events, "scaling": report})
        sys.exit(0 if report["flat"] else 1)
    work = Path(args.home or tempfile.mkdtemp(prefix="tokenomics-bench-"))
    results = _run_stages(console, STAGES, work, args.events)
    records = figures(results)
    table = Table(
        "stage",
        "rows",
        "seconds",
        "rows/s",
        "peak RSS (MiB)",
        "x baseline",
        title=f"tokenomics bench: {args.events:,} events, 1 day",
    )
    for r in records:
        table.add_row(
            r["stage"],
            f"{r['rows']:,}",
            f"{r['seconds']:.2f}",
            f"{r['rows_per_s'] or 0:,}",
            f"{r['peak_rss_mib']:,.0f}",
            f"{r['ratio_to_baseline']:.2f}" if r["ratio_to_baseline"] else "",
        )
    console.print(table)
    ratio = None
    if "baseline_duckdb" in results and "ingest" in results:
        ratio = results["ingest"]["seconds"] / results["baseline_duckdb"]["seconds"]
        console.print(f"pipeline ingest / DuckDB baseline: {ratio:.2f}x the time of parsing the same files to Parquet")
    if "bi_year" in results:
        slow = {q: ms for q, ms in results["bi_year"]["bi_query_ms"].items() if ms > BI_BUDGET_MS}
        for q, ms in results["bi_year"]["bi_query_ms"].items():
            console.print(f"  BI, a year of history: {q}: {ms:.1f} ms")
        console.print("[red]BI queries over budget[/]" if slow else f"every BI query under {BI_BUDGET_MS:.0f} ms")
    if args.json:
        _write_json(
            args.json,
            {
                "events": args.events,
                "stages": records,
                "ingest_over_baseline": round(ratio, 3) if ratio else None,
                "under_2_gib": all(r["peak_rss_mib"] < 2048 for r in records),
            },
        )
    if not args.home:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
