"""CSV hygiene shared by every CSV reader: BOM, NULL literals, all-text columns, chunked streaming."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import polars as pl

from tokenomics.sources.normalize import ReaderError

NULL_LITERALS = ["", "NULL", "null", "None", "NaN", "N/A"]

CHUNK_BYTES = 16 << 20
"""Upper bound on the bytes of CSV parsed at once, whatever chunk_rows says: Polars' CSV scan holds
the whole file, and LiteLLM's export carries request and response bodies, so peak memory grew with
the day (~880 MiB RSS for a 430 MB file). Blocks of 16 MiB parse as fast and peak at ~200 MiB."""


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


def iter_csv_chunks(
    path: Path, *, source: str, chunk_rows: int = 200_000, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[pl.DataFrame]:
    """Stream a CSV as all-String chunks with `_line` (file line of each record, header = line 1).

    Every column stays text: readers decide types at their edge (quoted numerics, `59200.0`,
    `FALSE`/`True`, US dates all need format-specific parsing). `NULL`-like literals become null.
    A header-only or empty file yields nothing. The file is parsed in blocks of whole records of
    about `chunk_bytes`, each behind a copy of the header: memory follows the block, not the file.
    """
    columns = csv_columns(path, source)
    if not columns:
        return
    line, header = 2, None
    with open(path, "rb") as fh:
        for block in _record_blocks(fh, chunk_bytes):
            if header is None:
                end = _first_record_end(block) or len(block)
                header, block = block[:end], block[end:]
            if not block:
                continue
            frame = _parse_block(header + block, columns, path, source, line)
            for start in range(0, frame.height, chunk_rows):
                batch = frame.slice(start, chunk_rows).with_row_index("_line", offset=line)
                line += batch.height
                yield batch.with_columns(pl.col("_line").cast(pl.Int64))


def _parse_block(data: bytes, columns: list[str], path: Path, source: str, line: int) -> pl.DataFrame:
    """One block (header + whole records) as all-String columns; `line` is its first record's line."""
    try:
        return pl.read_csv(
            data,
            has_header=True,
            infer_schema=False,
            null_values=NULL_LITERALS,
            truncate_ragged_lines=True,
            new_columns=columns,
            encoding="utf8",
        )
    except pl.exceptions.ComputeError as exc:
        detail = str(exc).splitlines()[0]  # Polars counts rows from the block's first record
        raise ReaderError(source, path, f"cannot parse CSV: {detail}", line=line) from exc


def _record_blocks(fh: BinaryIO, size: int) -> Iterator[bytes]:
    """The file in blocks of about `size` bytes that each end where a record ends.

    A newline ends a record only outside quotes, i.e. after an even number of `"` (an escaped quote
    is doubled, so it keeps the count even): a quoted field spanning lines is never cut in two.
    """
    rest = b""
    while data := fh.read(size):
        buffer = rest + data
        end = _last_record_end(buffer)
        if end is None:  # one record longer than a block: read on
            rest = buffer
            continue
        rest = buffer[end:]
        yield buffer[:end]
    if rest:
        yield rest


def _last_record_end(buffer: bytes) -> int | None:
    """Offset just after the last newline outside quotes (buffer starts at a record start), else None."""
    quotes, end = buffer.count(b'"'), len(buffer)
    while (newline := buffer.rfind(b"\n", 0, end)) >= 0:
        quotes -= buffer.count(b'"', newline, end)
        if quotes % 2 == 0:
            return newline + 1
        end = newline
    return None


def _first_record_end(buffer: bytes) -> int | None:
    """Offset just after the first newline outside quotes, else None."""
    quotes, start = 0, 0
    while (newline := buffer.find(b"\n", start)) >= 0:
        quotes += buffer.count(b'"', start, newline)
        if quotes % 2 == 0:
            return newline + 1
        start = newline + 1
    return None


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
