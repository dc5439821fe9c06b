"""Regenerate the README's performance table from `bench.py --json FILE`.

python benchmarks/readme_table.py FILE            print the table (Markdown)
python benchmarks/readme_table.py FILE --write    replace it in README.md, between the bench-table markers
... --scaling SCALING_FILE                        add the peak-RSS line of a `bench.py --scaling --json` run
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"

LABELS = {
    "generate": "generate (not a pipeline stage)",
    "baseline_duckdb": "baseline: DuckDB parses the raw files to Parquet",
    "read_normalize": "read + normalize (litellm + otel readers, row rules, quarantine)",
    "ingest": "ingest (read + normalize + attribution + pricing + dedup + lake write)",
    "validate": "validate (Great Expectations suite on the day)",
    "usage_daily": "usage_daily (sql/usage_daily.sql)",
    "publish": "publish (new warehouse.duckdb, atomic swap)",
    "bi_year": "a year of history: publish 365 days of marts + 4 BI queries",
}


def _size(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:,.0f} MiB"


def _rate(rows_per_s: float | None) -> str:
    if not rows_per_s:
        return "—"
    if rows_per_s < 1e3:
        return f"{rows_per_s:.0f}"
    return f"{rows_per_s / 1e6:.1f}M" if rows_per_s >= 1e6 else f"{rows_per_s / 1e3:.0f}k"


def table(figures: dict) -> str:
    """The Markdown table and the lines under it, from one bench JSON."""
    events = figures["events"]
    lines = [
        f"Measured {figures['date']} on {figures['machine']['cpus']} cores, {figures['machine']['memory_gib']} GiB "
        "(shared: other work ran beside it):",
        "",
        f"| stage ({events:,} events, 1 day) | seconds | rows/s | peak RSS | × baseline |",
        "|---|---|---|---|---|",
    ]
    for r in figures["stages"]:
        ratio = (
            f"{r['ratio_to_baseline']:.2f}" if r.get("ratio_to_baseline") and r["stage"] != "baseline_duckdb" else ""
        )
        lines.append(
            f"| {LABELS.get(r['stage'], r['stage'])} | {r['seconds']:.2f} | {_rate(r['rows_per_s'])} "
            f"| {_size(r['peak_rss_mib'])} | {ratio} |"
        )
    lines.append("")
    if figures.get("ingest_over_baseline"):
        lines.append(f"Ingest / DuckDB baseline: **{figures['ingest_over_baseline']:.2f}×** in this run.")
    bi = next((r for r in figures["stages"] if r["stage"] == "bi_year"), None)
    if bi and bi.get("bi_query_ms"):
        queries = "; ".join(f"{q} {ms:.1f} ms" for q, ms in bi["bi_query_ms"].items())
        lines.append(f"BI on a year of published marts ({bi['rows']:,} usage_daily rows), median of 7: {queries}.")
    return "\n".join(lines)


def scaling_line(figures: dict) -> str:
    """Peak RSS per stage at N/4, N/2 and N events, from `bench.py --scaling --json`."""
    sizes = "/".join(f"{s / 1e6:g}M" for s in figures["scaling"]["sizes"])
    parts = [
        f"{stage} {'/'.join(f'{m:,.0f}' if m else '-' for m in r['peak_rss_mib'])} MiB ({r['ratio']:.2f}x)"
        for stage, r in figures["scaling"]["stages"].items()
    ]
    verdict = "flat" if figures["scaling"]["flat"] else "NOT flat"
    return f"Peak RSS at {sizes} events (`--scaling`, {figures['date']}; {verdict}): " + "; ".join(parts) + "."


def write(readme: Path, text: str) -> None:
    content = readme.read_text()
    if START not in content or END not in content:
        sys.exit(f"{readme}: no {START} ... {END} markers to replace between")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json_file")
    parser.add_argument("--scaling", metavar="FILE", help="JSON of a `bench.py --scaling --json FILE` run")
    parser.add_argument(
        "--write",
        nargs="?",
        const=str(README),
        metavar="README",
        help="replace the table in README.md (or the file given)",
    )
    args = parser.parse_args()
    text = table(json.loads(Path(args.json_file).read_text()))
    if args.scaling:
        text += "\n" + scaling_line(json.loads(Path(args.scaling).read_text()))
    if args.write:
        write(Path(args.write), text)
    else:
        print(text)


if __name__ == "__main__":
    main()
