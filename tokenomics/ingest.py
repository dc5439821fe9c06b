"""Normalize one day's landing files into a lake partition: read, conform, enrich, dedup, write.

Pure library (no Dagster): the assets, the CLI and the benchmark all call these functions. Memory
stays bounded: each reader chunk is conformed and enriched on its own and spilled to a Parquet part;
the day is deduplicated by a streaming scan over the parts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from tokenomics import sources
from tokenomics.home import Home
from tokenomics.lake import replace_partition, swap_in
from tokenomics.schema import DEDUP_KEYS, QUARANTINE, TABLES
from tokenomics.sources import UnknownSourceError
from tokenomics.sources.normalize import FileCounts, ReaderError, normalize_chunks
from tokenomics.sources.readahead import read_ahead

Enrich = Callable[[pl.DataFrame], pl.DataFrame]

ROW_GROUP_ROWS = 32_768
"""Rows per row group of a written partition. Polars' sink buffers more the larger they are, most
with nested columns (labels, request_tags): a 1M-row day peaked at ~390 MiB with its default
(~80k rows), ~260 MiB with these."""


@dataclass
class DayIngest:
    """What one partition's ingest did: per-file conservation counts and per-table row totals."""

    day: date | None
    files: list[FileCounts] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    superseded_files: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return all(f.balanced for f in self.files)


def landing_files(home: Home, source: str, day: date | str) -> list[Path]:
    """Files delivered for `source` on `day`, in name order (later deliveries sort last)."""
    folder = home.landing_day(source, day)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


class _Spill:
    """Per-table Parquet parts in a private temp dir: bounded memory for a large day."""

    def __init__(self, root: Path):
        self.root = root
        self.parts: dict[str, list[Path]] = {}
        self.written = 0

    def add(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        paths = self.parts.setdefault(table, [])
        path = self.root / f"{table}-{self.written:06d}.parquet"
        self.written += 1
        frame.write_parquet(path, compression="lz4")
        paths.append(path)

    def mark(self) -> dict[str, int]:
        return {t: len(p) for t, p in self.parts.items()}

    def rollback(self, mark: dict[str, int]) -> None:
        """Forget the parts written since `mark` (a file that failed half-way contributes nothing)."""
        for table, paths in self.parts.items():
            for path in paths[mark.get(table, 0) :]:
                path.unlink(missing_ok=True)
            del paths[mark.get(table, 0) :]

    def scan(self, table: str) -> pl.LazyFrame | None:
        paths = self.parts.get(table)
        return pl.scan_parquet(paths) if paths else None


def _outside_day(frame: pl.DataFrame, table: str, day: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of another UTC day delivered in this day's folder go to quarantine, not to a wrong partition."""
    bad = frame.filter(pl.col("day") != day)
    if bad.height == 0:
        return frame, pl.DataFrame(schema=QUARANTINE)
    keys = [c for c in DEDUP_KEYS[table] if c != "source"]
    quarantine = bad.select(
        pl.lit(table).alias("table"),
        pl.col("day"),
        pl.col("source"),
        pl.col("source_file"),
        pl.lit(None, pl.Int64).alias("line"),
        pl.lit("outside_partition_day").alias("reason"),
        pl.struct([*keys, "day"]).struct.json_encode().alias("raw"),
    )
    return frame.filter(pl.col("day") == day), quarantine


def normalize_files(
    files: Iterable[tuple[str, Path]],
    spill: _Spill,
    report: DayIngest,
    *,
    enrich: dict[str, Enrich] | None = None,
    chunk_rows: int = 200_000,
    on_file: Callable[[FileCounts], None] | None = None,
    errors: list[str] | None = None,
) -> list[pl.DataFrame]:
    """Read and conform every (source, file); spill kept rows; return quarantine frames.

    A file that cannot be read raises ReaderError, unless `errors` is given: then its message is
    collected, whatever it had spilled is rolled back, and the other files go on.
    """
    quarantine: list[pl.DataFrame] = []
    for source, path in files:
        mark, qmark = spill.mark(), len(quarantine)
        try:
            counts = _normalize_file(source, path, spill, report, quarantine, enrich, chunk_rows)
        except (ReaderError, UnknownSourceError) as exc:
            if errors is None:
                raise
            spill.rollback(mark)
            del quarantine[qmark:]
            errors.append(str(exc))
            continue
        report.files.append(counts)
        if on_file:
            on_file(counts)
    return quarantine


def _normalize_file(
    source: str,
    path: Path,
    spill: _Spill,
    report: DayIngest,
    quarantine: list[pl.DataFrame],
    enrich: dict[str, Enrich] | None,
    chunk_rows: int,
    source_file: str | None = None,
) -> FileCounts:
    """Read and conform one file into `spill` (kept rows) and `quarantine`; `source_file` names it in
    the rows and counts (default: its path)."""
    if source == "auto":
        source = sources.detect(path)
    reader = sources.reader(source)
    name = source_file or str(path)
    counts = FileCounts(source=source, file=name)
    for result in normalize_chunks(
        read_ahead(reader.read(path, chunk_rows=chunk_rows)), source=source, source_file=name, counts=counts
    ):
        for table, frame in result.kept.items():
            if report.day is not None:
                frame, outside = _outside_day(frame, table, report.day)
                if outside.height:
                    counts.kept -= outside.height
                    counts.quarantined += outside.height
                    quarantine.append(outside)
            if enrich and table in enrich and frame.height:
                frame = enrich[table](frame)
            spill.add(table, frame)
        if result.quarantine.height:
            quarantine.append(result.quarantine)
    return counts


def _dedup_to(lazy: pl.LazyFrame, table: str, out_file: Path) -> tuple[int, dict[str, int]]:
    """Stream-deduplicate on the table's key into out_file; return rows kept and drops per file.

    Keeps the first row of each key, in scan order. `unique(maintain_order=True)` holds every row of
    the day in memory; here only a 64-bit hash per row is held: pass 1 finds the hashes seen twice,
    pass 2 compares the real keys of those few rows (a hash collision never drops a row), pass 3
    streams the rows that are not repeats to the file.
    """
    keys = list(DEDUP_KEYS[table])
    numbered = lazy.with_row_index("_row")
    key_hash = pl.struct(keys).hash()
    hashes = lazy.select(key_hash.alias("_hash")).collect(engine="streaming")["_hash"].sort()
    repeated = hashes.filter(hashes == hashes.shift(1)).unique()  # sorted: no hash table over the day
    total = hashes.len()
    del hashes
    to_check = numbered.filter(key_hash.is_in(repeated.implode())).select("_row", "source_file", *keys)
    if repeated.len() == 0:  # the usual day: no second scan
        to_check = to_check.head(0)
    candidates = to_check.collect(engine="streaming").sort("_row")
    dropped = candidates.filter(~pl.struct(keys).is_first_distinct())
    rows = numbered
    if dropped.height:
        rows = numbered.filter(~pl.col("_row").is_in(dropped["_row"].implode()))
    rows.select(list(TABLES[table])).sink_parquet(out_file, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    drops = dropped.group_by("source_file").len()
    return total - dropped.height, {r["source_file"]: r["len"] for r in drops.iter_rows(named=True)}


def write_day(
    home: Home,
    day: date,
    files: Iterable[tuple[str, Path]],
    tables: Iterable[str],
    *,
    enrich: dict[str, Enrich] | None = None,
    chunk_rows: int = 200_000,
    on_file: Callable[[FileCounts], None] | None = None,
) -> DayIngest:
    """Replace the lake partitions of `tables` for `day` (and their quarantine) with these files' rows."""
    report = DayIngest(day=day)
    work = Path(tempfile.mkdtemp(prefix=f".ingest-{day}-", dir=home.root))
    try:
        spill = _Spill(work)
        quarantine = normalize_files(files, spill, report, enrich=enrich, chunk_rows=chunk_rows, on_file=on_file)
        by_file = {c.file: c for c in report.files}
        for table in tables:
            target = home.table_day(table, day)
            staged = work / f"out-{table}"
            staged.mkdir()
            lazy = spill.scan(table)
            if lazy is None:
                pl.DataFrame(schema=TABLES[table]).write_parquet(staged / "part-0.parquet")
                report.rows[table] = 0
            else:
                kept, drops = _dedup_to(lazy, table, staged / "part-0.parquet")
                report.rows[table] = kept
                for file, n in drops.items():
                    by_file[file].deduplicated += n
                    by_file[file].kept -= n
            target.parent.mkdir(parents=True, exist_ok=True)
            swap_in(staged, target)
            qframes = [q for q in quarantine if q.height and q["table"][0] == table]
            report.quarantined += sum(q.height for q in qframes)
            replace_partition(home.quarantine_day(table, day), qframes, schema=QUARANTINE)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ingest_files(
    paths: Iterable[Path],
    source: str,
    out_dir: Path,
    *,
    on_file: Callable[[FileCounts], None] | None = None,
    enrich: dict[str, Enrich] | None = None,
    config=None,
    errors: list[str] | None = None,
) -> DayIngest:
    """`tokenomics ingest`: normalize files outside the pipeline into out_dir/<table>.parquet.

    The rows are the lake's rows: unless `enrich` is given, they are attributed and priced with the
    same enrichers and the same configuration the pipeline would use (`config`, else the file
    `pipeline_config()` finds), so a user can check a file's cost without running Dagster.
    """
    if enrich is None:
        enrich = lake_enrichers(config if config is not None else pipeline_config())
    out_dir.mkdir(parents=True, exist_ok=True)
    report = DayIngest(day=None)
    work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=out_dir))
    try:
        spill = _Spill(work)
        pairs = [(source, p) for p in paths]
        quarantine = normalize_files(pairs, spill, report, enrich=enrich, errors=errors)
        by_file = {c.file: c for c in report.files}
        for table in TABLES:
            lazy = spill.scan(table)
            if lazy is None:
                continue
            kept, drops = _dedup_to(lazy, table, work / f"{table}.parquet")
            report.rows[table] = kept
            for file, n in drops.items():
                by_file[file].deduplicated += n
                by_file[file].kept -= n
            shutil.move(work / f"{table}.parquet", out_dir / f"{table}.parquet")
        frames = [q for q in quarantine if q.height]
        report.quarantined = sum(q.height for q in frames)
        (pl.concat(frames) if frames else pl.DataFrame(schema=QUARANTINE)).write_parquet(out_dir / "quarantine.parquet")
        if on_file:
            for counts in report.files:
                on_file(counts)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def pipeline_config():
    """The configuration the pipeline reads: $TOKENOMICS_CONFIG, else the home's tokenomics.yaml."""
    from tokenomics.config import load_config

    return load_config(os.environ.get("TOKENOMICS_CONFIG") or Home.resolve().config_file)


def lake_enrichers(config) -> dict[str, Enrich]:
    """Per-table steps between a reader and the lake; the one list both the assets and the CLI apply."""
    return {"usage_events": usage_enricher(config)}


def usage_enricher(config) -> Enrich:
    """Attribution then pricing, applied per chunk: both are pure functions of the row and the config."""
    from tokenomics.attribution import attribute
    from tokenomics.pricing import price_usage

    def enrich(frame: pl.DataFrame) -> pl.DataFrame:
        return price_usage(attribute(frame, config.attribution), config.prices)

    return enrich


def normalize_file(
    source: str, path: Path, *, chunk_rows: int = 200_000, dedup: bool = True, source_file: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, FileCounts]:
    """Normalize one file the way the pipeline does, in a temporary directory: (kept, quarantine, counts).

    The same steps as `write_day` (read ahead, conform, spill to Parquet parts, the streaming dedup
    when `dedup`), so what a reader test sees is what the lake gets; only the result is read back
    into memory, which suits small files (fixtures, a quick look). `source_file` defaults to the file
    name, the way tests and `ingest` print it.
    """
    from tokenomics.schema import empty

    with tempfile.TemporaryDirectory(prefix=".normalize-") as work:
        spill = _Spill(Path(work))
        quarantine: list[pl.DataFrame] = []
        name = source_file or Path(path).name
        counts = _normalize_file(source, Path(path), spill, DayIngest(day=None), quarantine, None, chunk_rows, name)
        table = sources.reader(counts.source).TABLES[0]
        lazy = spill.scan(table)
        if lazy is None:
            kept = empty(table)
        elif dedup:
            _, drops = _dedup_to(lazy, table, Path(work) / "kept.parquet")
            kept = pl.read_parquet(Path(work) / "kept.parquet")
            counts.deduplicated = sum(drops.values())
            counts.kept -= counts.deduplicated
        else:
            kept = lazy.collect()
    return kept, pl.concat([empty("quarantine"), *quarantine], how="vertical_relaxed"), counts
