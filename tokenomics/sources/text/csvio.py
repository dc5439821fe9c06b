"""CSV hygiene shared by every CSV reader: BOM, NULL literals, all-text columns, chunked streaming, gzip."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
import polars as pl

from tokenomics.sources.normalize import ReaderError
from tokenomics.sources.parse import NULL_SPELLINGS
from tokenomics.sources.readahead import read_ahead

CHUNK_BYTES = 16 << 20
"""Upper bound on the bytes of CSV parsed at once, whatever chunk_rows says. Polars' CSV scan held the
whole file, and LiteLLM's export carries request and response bodies (200k rows ~250 MB), so peak
memory grew with the day: ~880 MiB RSS to read a 430 MB export. In 16 MiB blocks: ~250 MiB, flat."""


GZIP_MAGIC = b"\x1f\x8b"
"""A gzipped export (`.csv.gz`, whatever its name says) is recognized by its first bytes, not its suffix."""


def open_csv_bytes(path: Path) -> BinaryIO:
    """The file's CSV bytes: decompressed on the fly when it is gzipped, so memory still follows the block."""
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == GZIP_MAGIC
    return cast(BinaryIO, gzip.open(path, "rb")) if gzipped else open(path, "rb")


def _header(path: Path, source: str) -> str:
    """The first line of the file as text (BOM removed), with unreadable bytes named as a ReaderError."""
    try:
        with io.TextIOWrapper(open_csv_bytes(path), encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise ReaderError(source, path, f"not UTF-8 text ({exc.reason})", line=1) from exc
    except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt .gz
        raise ReaderError(source, path, f"cannot decompress gzip: {exc}", line=1) from exc
    return first


def csv_columns(path: Path, source: str) -> list[str]:
    """Header names with BOM and surrounding whitespace removed (empty list for an empty file)."""
    first = _header(path, source)
    if not first.strip():
        return []
    return [c.strip() for c in next(csv.reader([first]))]


def iter_csv_chunks(
    path: Path, *, source: str, chunk_rows: int = 200_000, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[pl.DataFrame]:
    """Stream a CSV as all-String chunks with `_line` (file line where each record starts, header = line 1).

    Every column stays text: readers decide types at their edge (quoted numerics, `59200.0`,
    `FALSE`/`True`, US dates all need format-specific parsing). Every spelling of an absent value (`parse.NULL_SPELLINGS`) becomes null.
    A header-only or empty file yields nothing. The file is parsed in blocks of whole records of
    about `chunk_bytes`, each behind a copy of the header: memory follows the block, not the file.
    A quoted field spanning lines makes a record longer than one line, so `_line` is counted from the
    newlines in the file (`record_start_lines`), not from the record number.
    """
    columns = csv_columns(path, source)
    if not columns:
        return
    yield from read_ahead(_csv_chunks(path, source, columns, chunk_rows, chunk_bytes))


def _csv_chunks(
    path: Path, source: str, columns: list[str], chunk_rows: int, chunk_bytes: int
) -> Iterator[pl.DataFrame]:
    with open_csv_bytes(path) as fh:
        header = _header_record(fh)
        line = 1 + header.count(b"\n")
        for block in _checked_blocks(_record_blocks(fh, chunk_bytes), path, source, line):
            body = b"".join(block)
            frame = _parse_block(header + body, columns, path, source, line)
            lines = record_start_lines(body, line)
            if len(lines) != frame.height:  # the parser saw records differently: number them in order
                lines = np.arange(line, line + frame.height, dtype=np.int64)
            for start in range(0, frame.height, chunk_rows):
                batch = frame.slice(start, chunk_rows)
                yield batch.insert_column(0, pl.Series("_line", lines[start : start + batch.height], dtype=pl.Int64))
            line += body.count(b"\n")


def _checked_blocks(blocks: Iterator[list], path: Path, source: str, line: int) -> Iterator[list]:
    """`blocks`, with a truncated or corrupt gzip stream turned into a ReaderError naming the file."""
    try:
        yield from blocks
    except (OSError, EOFError, zlib.error) as exc:
        raise ReaderError(source, path, f"cannot decompress gzip: {exc}", line=line) from exc


def _parse_block(data: bytes, columns: list[str], path: Path, source: str, line: int) -> pl.DataFrame:
    """One block (header + whole records) as all-String columns; `line` is its first record's line."""
    try:
        return pl.read_csv(
            io.BytesIO(data),
            has_header=True,
            infer_schema=False,
            null_values=list(NULL_SPELLINGS),
            truncate_ragged_lines=True,
            new_columns=columns,
            encoding="utf8",
        )
    except pl.exceptions.ComputeError as exc:
        detail = str(exc).splitlines()[0]  # Polars counts rows from the block's first record
        raise ReaderError(source, path, f"cannot parse CSV: {detail}", line=line) from exc


def record_start_lines(body: bytes, first_line: int) -> np.ndarray:
    """File line on which each record of `body` (whole records, no header) starts.

    A newline ends a record only outside quotes: after an even number of `"` since the block began
    (an escaped quote is doubled, so parity is enough). Vectorized over the newline and quote
    offsets; a block holds no partial record, so parity starts at 0.
    """
    data = np.frombuffer(body, dtype=np.uint8)
    newlines = np.flatnonzero(data == ord("\n"))
    quotes = np.flatnonzero(data == ord('"'))
    ends = np.flatnonzero(np.searchsorted(quotes, newlines) % 2 == 0)  # indexes into `newlines`
    starts = np.concatenate(([0], ends + 1)).astype(np.int64)
    if len(ends) and newlines[ends[-1]] == len(body) - 1:  # the last record ends with its newline
        starts = starts[:-1]
    return starts + first_line


def _header_record(fh: BinaryIO) -> bytes:
    """The header record's bytes (a quoted name may span lines), leaving `fh` at the first record."""
    header = fh.readline()
    while header.count(b'"') % 2 and (more := fh.readline()):
        header += more
    return header if header.endswith(b"\n") else header + b"\n"


def _record_blocks(fh: BinaryIO, size: int) -> Iterator[list[bytes | memoryview]]:
    """The rest of the file in blocks of about `size` bytes that end where a record ends (as pieces
    to join: a block is copied once). A newline ends a record only outside quotes, i.e. after an
    even number of `"` (an escaped quote is doubled): a quoted field spanning lines is never cut."""
    rest = b""
    while data := fh.read(size):
        end = _last_record_end(data, rest.count(b'"'))
        if end is None:  # one record longer than a block: read on
            rest += data
            continue
        yield [rest, memoryview(data)[:end]]
        rest = data[end:]
    if rest:
        yield [rest]


def _last_record_end(data: bytes, quotes_before: int) -> int | None:
    """Offset just after the last newline of `data` outside quotes, else None."""
    quotes, end = quotes_before + data.count(b'"'), len(data)
    while (newline := data.rfind(b"\n", 0, end)) >= 0:
        quotes -= data.count(b'"', newline, end)
        if quotes % 2 == 0:
            return newline + 1
        end = newline
    return None


def has_columns(head: bytes, required: set[str]) -> bool:
    """True when the CSV header in `head` (first bytes of a file) contains every name in `required`.

    A gzipped head is inflated as far as it goes: the header is in its first bytes."""
    if head[:2] == GZIP_MAGIC:
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 65536)
        except zlib.error:
            return False
    text = head.decode("utf-8-sig", errors="ignore")
    first = text.split("\n", 1)[0].strip("\r")
    if not first or "\x00" in first:
        return False
    try:
        names = {c.strip() for c in next(csv.reader([first]))}
    except csv.Error:  # binary content (Parquet, gzip): not a CSV header
        return False
    return required <= names
