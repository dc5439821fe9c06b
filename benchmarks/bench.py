"""`make bench`: rows/s and peak memory per pipeline stage on one generated day, against a DuckDB baseline.

Each stage runs in its own Python process so its peak RSS is its own. The baseline is DuckDB alone
parsing the same raw gateway files and writing Parquet: the floor for this job on this machine.
`--scaling` runs the streaming stages on days of N/4, N/2 and N events: their peak RSS must stay flat.
"""

from __future__ import annotations

import argparse
import json
import os
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
STAGES = ["generate", "baseline_duckdb", "read_normalize", "ingest", "validate", "usage_daily", "publish"]
STREAMING_STAGES = ["read_normalize", "ingest"]
FLAT = 1.15
"""Largest accepted peak-RSS ratio between the N-event and the N/4-event day of a streaming stage."""


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
    for i, (source, path) in enumerate(_gateway_files(home)):
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
        for _ in normalize_chunks(sources.reader(source).read(path), source=source, source_file=str(path), counts=counts):
            pass
        rows += counts.read
    return rows


def stage_ingest(home, events: int) -> int:
    from tokenomics.config import load_config
    from tokenomics.ingest import usage_enricher, write_day

    config = load_config(home.config_file)
    report = write_day(home, DAY, _gateway_files(home), ["usage_events"], enrich={"usage_events": usage_enricher(config)})
    return sum(f.read for f in report.files)


def stage_validate(home, events: int) -> int:
    import polars as pl

    from tokenomics.quality.runner import validate

    frame = pl.read_parquet(home.table_day("usage_events", DAY) / "*.parquet")
    outcomes = validate("usage_events", frame)
    failed = [o.name for o in outcomes if not o.passed]
    if failed:
        print(f"  (validation failures: {failed})", file=sys.stderr)
    return frame.height


def stage_usage_daily(home, events: int) -> int:
    from tokenomics.marts import build_mart_day

    build_mart_day(home, "usage_daily", DAY, {"events": str(home.table_day("usage_events", DAY) / "*.parquet")})
    import duckdb

    return duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(home.table_day("usage_events", DAY) / "*.parquet")]).fetchone()[0]


def stage_publish(home, events: int) -> int:
    from tokenomics.warehouse import publish

    return sum(publish(home, ["usage_daily"]).values())


def run_stage(name: str, home_dir: str, events: int) -> None:
    """Child process: run one stage, print one JSON line with rows, seconds and peak RSS."""
    from tokenomics.home import Home

    os.environ.setdefault("TOKENOMICS_HMAC_KEY", "bench-key")
    home = Home(Path(home_dir))
    t0 = time.perf_counter()
    rows = globals()[f"stage_{name}"](home, events)
    seconds = time.perf_counter() - t0
    print(json.dumps({"stage": name, "rows": rows, "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}))


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


def scaling(console, events: int, home: str | None) -> bool:
    """Streaming stages on days of N/4, N/2 and N events: peak RSS per size; True when it stays flat."""
    import shutil

    from rich.table import Table

    sizes = [events // 4, events // 2, events]
    runs: dict[int, dict[str, dict]] = {}
    for size in sizes:
        work = Path(home) / f"events-{size}" if home else Path(tempfile.mkdtemp(prefix="tokenomics-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            runs[size] = _run_stages(console, ["generate", *STREAMING_STAGES], work, size)
        finally:
            if not home:
                shutil.rmtree(work, ignore_errors=True)
    table = Table("stage", *(f"{s:,} events" for s in sizes), f"N / N/4 (max {FLAT})",
                  title="peak RSS and rows/s as the day grows")
    flat = True
    for name in STREAMING_STAGES:
        got = [runs[s].get(name) for s in sizes]
        cells = [f"{r['peak_rss_mb']:,.0f} MiB {r['rows'] / r['seconds']:,.0f}/s" if r else "failed" for r in got]
        ratio = got[-1]["peak_rss_mb"] / got[0]["peak_rss_mb"] if got[0] and got[-1] else float("inf")
        flat = flat and ratio <= FLAT
        table.add_row(name, *cells, f"[{'green' if ratio <= FLAT else 'red'}]{ratio:.2f}[/]")
    console.print(table)
    console.print("memory stays flat as the day grows" if flat else "[red]peak memory grows with the day[/]")
    return flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="gateway events in the generated day")
    parser.add_argument("--home", default=None, help="work directory (default: a temp dir, removed after)")
    parser.add_argument("--scaling", action="store_true",
                        help="peak RSS of the streaming stages at N/4, N/2 and N events (exit 1 if it grows)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        run_stage(args.stage, args.home, args.events)
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    if args.scaling:
        sys.exit(0 if scaling(console, args.events, args.home) else 1)
    work = Path(args.home or tempfile.mkdtemp(prefix="tokenomics-bench-"))
    results = _run_stages(console, STAGES, work, args.events)
    table = Table("stage", "rows", "seconds", "rows/s", "peak RSS (MiB)", title=f"tokenomics bench: {args.events:,} events, 1 day")
    for r in results.values():
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0
        table.add_row(r["stage"], f"{r['rows']:,}", f"{r['seconds']:.2f}", f"{rate:,.0f}", f"{r['peak_rss_mb']:,.0f}")
    console.print(table)
    if "baseline_duckdb" in results and "ingest" in results:
        ratio = results["ingest"]["seconds"] / results["baseline_duckdb"]["seconds"]
        console.print(f"pipeline ingest / DuckDB baseline: {ratio:.2f}x the time of parsing the same files to Parquet")
    if not args.home:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
