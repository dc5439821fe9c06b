"""Prove a change left results alone: digests of a day's usage_daily, usage_events and quarantine.

    python benchmarks/same_results.py digest HOME [--out FILE]     digest the tables already in HOME
    python benchmarks/same_results.py run HOME [--out FILE] [--expect FILE]
        ingest HOME's landing day with the code as it is now, build usage_daily, digest, compare

Each digest folds a hash of every row (all columns as text, Decimal money included) with an
order-independent sum and xor, so row order, Parquet layout and row-group sizes do not matter and
memory stays bounded at 10M rows; a small table (usage_daily) is also hashed whole, sorted on every
column. Workflow: run
`make bench` (or `digest`) on the code before a change, then `run` the same landing files after it
with `--expect` the before digest: exit 1 when any table differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = date(2026, 6, 3)
TABLES = ("usage_daily", "usage_events", "quarantine")


def _table_glob(home, table: str) -> str:
    if table == "usage_daily":
        return str(home.mart_day("usage_daily", DAY) / "*.parquet")
    if table == "quarantine":
        return str(home.quarantine_day("usage_events", DAY) / "*.parquet")
    return str(home.table_day(table, DAY) / "*.parquet")


def digest(home) -> dict[str, dict]:
    """Per table: rows and the SHA-256 of its rows sorted on every column (DuckDB sorts out of core)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    out = {}
    for table in TABLES:
        glob = _table_glob(home, table)
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [glob]).fetchone()[0]
        columns = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [glob]).fetchall()]
        order = ", ".join(f'"{c}"' for c in columns)
        # source_file names the file under its home: the same landing file in another home is the same file
        root = str(home.root.resolve()).replace("'", "''")
        value = {c: f"replace(\"{c}\", '{root}/', '')" if c == "source_file" else f'"{c}"' for c in columns}
        cells = " || '|' || ".join(f"coalesce(CAST({value[c]} AS VARCHAR), '<null>')" for c in columns)
        total, xor = con.execute(
            f"SELECT sum(hash({cells})::HUGEINT)::VARCHAR, bit_xor(hash({cells}))::VARCHAR FROM read_parquet(?)", [glob]
        ).fetchone()
        sorted_text = ""
        if rows <= 100_000:
            sorted_text = "\n".join(
                "|".join(map(str, r))
                for r in con.execute(
                    f"SELECT {', '.join(value[c] for c in columns)} FROM read_parquet(?) ORDER BY ALL", [glob]
                ).fetchall()
            )
        sha = hashlib.sha256(f"{order}\n{rows}\n{total}\n{xor}\n{sorted_text}".encode()).hexdigest()
        out[table] = {"rows": rows, "sha256": sha}
    return out


def run(home) -> None:
    """Ingest the landing day and build usage_daily with the current code (what the bench stages do)."""
    from tokenomics import sources
    from tokenomics.config import load_config
    from tokenomics.ingest import landing_files, usage_enricher, write_day
    from tokenomics.marts import build_mart_day

    files = [(s, p) for s in sources.GATEWAY_SOURCES if s in sources.available() for p in landing_files(home, s, DAY)]
    config = load_config(home.config_file)
    write_day(home, DAY, files, ["usage_events"], enrich={"usage_events": usage_enricher(config)})
    build_mart_day(home, "usage_daily", DAY, {"events": _table_glob(home, "usage_events")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["digest", "run"])
    parser.add_argument("home")
    parser.add_argument("--out", help="write the digests as JSON")
    parser.add_argument("--expect", help="JSON of digests to compare with (exit 1 on any difference)")
    args = parser.parse_args()
    os.environ.setdefault("TOKENOMICS_HMAC_KEY", "bench-key")
    from tokenomics.home import Home

    home = Home(Path(args.home))
    if args.mode == "run":
        run(home)
    got = digest(home)
    print(json.dumps(got, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(got, indent=2) + "\n")
    if args.expect:
        want = json.loads(Path(args.expect).read_text())
        diff = [t for t in TABLES if got.get(t) != want.get(t)]
        print("same results" if not diff else f"DIFFERENT: {', '.join(diff)}")
        sys.exit(1 if diff else 0)


if __name__ == "__main__":
    main()
