"""CSV hygiene shared by every CSV reader: BOM, NULL literals, all-text columns, chunked streaming."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources.normalize import ReaderError

NULL_LITERALS = ["", "NULL", "null", "None", "NaN", "N/A"]


def _header(path: Path, source: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise ReaderError(source, path, f"not UTF-8 text ({exc.reason})", line=1) from exc
    return first


def csv_columns(path: Path, source: str) -> list[str]:
    """Header names with BOM and surrounding whitespace removed (empty list for an empty file)."""
    import csv

    first = _header(path, source)
    if not first.strip():
        return []
    return [c.strip() for c in next(csv.reader([first]))]


def iter_csv_chunks(path: Path, *, source: str, chunk_rows: int = 200_000) -> Iterator[pl.DataFrame]:
    """Stream a CSV as all-String chunks with `_line` (file line of each record, header = line 1).

    Every column stays text: readers decide types at their edge (quoted numerics, `59200.0`,
    `FALSE`/`True`, US dates all need format-specific parsing). `NULL`-like literals become null.
    A header-only or empty file yields nothing.
    """
    columns = csv_columns(path, source)
    if not columns:
        return
    lf = pl.scan_csv(
        path,
        has_header=True,
        infer_schema=False,
        null_values=NULL_LITERALS,
        truncate_ragged_lines=True,
        new_columns=columns,
        encoding="utf8",
    ).with_row_index("_line", offset=2)
    try:
        for batch in lf.collect_batches(chunk_size=chunk_rows):
            if batch.height:
                yield batch.with_columns(pl.col("_line").cast(pl.Int64))
    except pl.exceptions.ComputeError as exc:
        raise ReaderError(source, path, f"cannot parse CSV: {str(exc).splitlines()[0]}") from exc


def has_columns(head: bytes, required: set[str]) -> bool:
    """True when the CSV header in `head` (first bytes of a file) contains every name in `required`."""
    import csv

    text = head.decode("utf-8-sig", errors="ignore")
    first = text.split("\n", 1)[0].strip("\r")
    if not first or "\x00" in first:
        return False
    try:
        names = {c.strip() for c in next(csv.reader([first]))}
    except csv.Error:  # binary content (Parquet, gzip): not a CSV header
        return False
    return required <= names
