"""JSON input for every reader: JSON lines streamed in bounded chunks, JSON-text columns, whole documents.

Everything is read as text on purpose: a JSON number read into a String field keeps its digits
(integers exactly; floats as their shortest round-trip form, which is what Python's json writes), a
nested object read into a String field comes back as its JSON text, so one schema accepts both
`"metadata": "{...}"` (a JSON-encoded string) and `"metadata": {...}` (a real object). Readers cast
once, at their edge.

Parsing runs in DuckDB (`try(json_transform(...))` over a column of lines), not in
`pl.read_ndjson`: measured on 16 MiB chunks, it is 8-10x faster on nested records (OTLP spans: the
Polars NDJSON reader builds deep List/Struct columns slowly), 3x faster on JSON-text columns
(LiteLLM `metadata`), and it finds bad lines vectorized, so there is no per-line Python fallback and
one malformed line costs nothing more than a good one. A line that is not a JSON object becomes a
row with `_reject`; a field whose shape does not match the schema reads as null.

Plain JSON lines (no blank line, every line an object of the schema's shape: every day's gateway logs)
take a faster road: DuckDB's `read_json` reads the file itself, in parallel, with the same transform,
and hands over only the schema's fields. Line N is then row N. Measured on a 475 MB LiteLLM file
(250k lines): 0.9 s instead of 8-13 s, the Python line splitting and the text round trip gone; a
1M-event day's ingest went from ~34 to ~26 CPU-seconds. Chunks stay at CHUNK_BYTES of text: OTLP
records parsed whole are large (64 MiB chunks peaked ~1.2 GiB in ingest, 16 MiB ~860 MiB).
The first line DuckDB will not read that way (malformed, not an object, a nested part of another
shape) sends the rest of the file, from the first line not yet handed over, down the careful road.

Whole JSON documents (a pretty-printed export, a saved API answer, provider report pages) are decoded
by `loads_exact`, which keeps every number as its literal text, like the DuckDB roads do.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import duckdb
import numpy as np
import polars as pl
from polars.datatypes import DataTypeClass

from tokenomics.sources.normalize import ReaderError
from tokenomics.sources.parse import text_or_null
from tokenomics.sources.readahead import read_ahead

MALFORMED_JSON = "malformed_json"
"""A line that is not a JSON object."""

CHUNK_BYTES = 16 << 20
"""Upper bound on the text behind one chunk, whatever chunk_rows says: fat lines must not blow memory.
Readers pay ~20 ms per chunk whatever its size, so chunks stay this large."""

PARSE_BYTES = 4 << 20
"""Text decoded by one DuckDB call. Decoding needs several times the text (nested records, Arrow and
Polars copies) and the allocators keep what a call used: reading a 190 MB OTLP file, 16 MiB calls
peaked at ~680 MiB RSS and kept growing with the file, 4 MiB calls stayed at ~300 MiB and ran as
fast (LiteLLM logs: ~5% slower, ~270 instead of ~490 MiB)."""

DOCUMENT_LIMIT = 256 << 20
"""Largest file accepted as one JSON document (pretty-printed object or array) instead of JSON lines."""

_BOM = b"\xef\xbb\xbf"
_DATABASE: tuple[int, duckdb.DuckDBPyConnection] | None = None


def _cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on one in-memory DuckDB per process: a cursor costs microseconds, a connection ~30 ms.
    Keyed by pid so a forked worker never shares its parent's database."""
    global _DATABASE
    database = _DATABASE  # read once: another thread may release it meanwhile
    if database is None or database[0] != os.getpid():
        database = _DATABASE = (os.getpid(), duckdb.connect())
    return database[1].cursor()


def release_database() -> None:
    """Let this process's DuckDB go once a file is read: its allocator keeps what decoding used
    (~130 MiB after a day of LiteLLM logs) until the database closes, and the next file, or the
    day's dedup, would stack its own peak on top. The next decode opens a fresh one (~10 ms);
    a cursor still open keeps the old one alive until it closes."""
    global _DATABASE
    _DATABASE = None


_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


def iter_json_records(
    path: Path | str,
    *,
    source: str,
    schema: dict[str, pl.DataType],
    chunk_rows: int = 200_000,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[pl.DataFrame]:
    """Stream the JSON objects of a file as frames with `schema`'s columns plus `_line` and `_reject`.

    JSON lines is the normal case (one object per line, blank lines ignored). A file whose first line
    is not a JSON object but which parses as one JSON document (an OTLP export pretty-printed, a
    `/spend/logs` API answer saved as an array) is read whole, records numbered from 1.
    Raises ReaderError, naming file and line, for bytes that are not UTF-8 or a file that is not JSON.
    """
    path = Path(path)
    done = 0
    lines = _plain_json_lines(path, source)
    if lines:
        rows = min(chunk_rows, math.ceil(chunk_bytes * lines / max(path.stat().st_size, 1)))
        try:
            for frame in read_ahead(_duckdb_json_lines(path, schema, max(rows, 1))):
                yield frame
                done += frame.height
            release_database()
            return
        except duckdb.Error:
            pass  # the careful road reads on from line done + 1, and says what is wrong with it
    yield from _careful_records(path, source, schema, chunk_rows, chunk_bytes, done)


def _plain_json_lines(path: Path, source: str) -> int:
    """Lines of the file when it is plain JSON lines (first line an object, no blank line before the
    last record, so line N is record N), else 0."""
    with open(path, "rb") as fh:
        first = fh.readline().removeprefix(_BOM)
        if not first.lstrip().startswith(b"{") or _first_record_is_object([first], 1, path, source) is not True:
            return 0
        fh.seek(0)
        lines, carry = 0, b""
        while block := fh.read(CHUNK_BYTES):
            first_end = block.find(b"\n")
            edge = carry + (block[: first_end + 1] if first_end >= 0 else block) if carry else b""
            if _has_blank_line(block) or _has_blank_line(edge):  # edge: a blank line across two blocks
                return 0
            lines += block.count(b"\n")
            cut = block.rfind(b"\n")
            tail = (carry + block) if cut < 0 else block[cut:]
            carry = tail if tail.startswith(b"\n") and not tail.strip() else b""
    return lines + 1


_LINE_START_SPACE = np.array([ord(c) for c in "\n\r \t"], dtype=np.uint8)


def _has_blank_line(data: bytes) -> bool:
    """A whitespace-only line between two newlines. Vectorized: the byte after each newline is looked
    at, and only a block where a line starts with whitespace (rare in JSON lines) pays for the regex.
    (Two-byte `in` tests cost ~0.4 s per 475 MB each; this ~0.1 s.)"""
    view = np.frombuffer(data, dtype=np.uint8)
    after = np.flatnonzero(view[:-1] == 10) + 1
    if not np.isin(view[after], _LINE_START_SPACE).any():
        return False
    return _BLANK_LINE.search(data) is not None


def _duckdb_json_lines(path: Path, schema: dict[str, pl.DataType], rows: int) -> Iterator[pl.DataFrame]:
    """The file's records as frames of `rows`, read by DuckDB itself; raises duckdb.Error on a line it
    cannot read as an object of `schema` (only after the frames of the lines before it)."""
    columns = (
        "{"
        + ", ".join(f"'{_sql_quote(name)}': '{_sql_quote(_duck_type(dtype))}'" for name, dtype in schema.items())
        + "}"
    )
    with _cursor() as cursor:
        reader = cursor.sql(
            f"SELECT * FROM read_json(?, columns = {columns}, format = 'newline_delimited', records = true)",
            params=[str(path)],
        ).to_arrow_reader(rows)
        line = 1
        pending: list = []
        for batch in reader:
            pending.append(batch)
            if sum(b.num_rows for b in pending) < rows:
                continue
            frame = _as_records(pending, schema, line)
            line += frame.height
            pending = []
            yield frame
        if pending:
            yield _as_records(pending, schema, line)


def _as_records(batches: list, schema: dict[str, pl.DataType], first_line: int) -> pl.DataFrame:
    import pyarrow as pa

    frame = cast(pl.DataFrame, pl.from_arrow(pa.Table.from_batches(batches), rechunk=False))
    return frame.with_columns([pl.col(name).cast(dtype) for name, dtype in schema.items()]).with_columns(
        pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64).alias("_line"),
        pl.lit(None, pl.String).alias("_reject"),
    )


def _duck_type(dtype: DataTypeClass | pl.DataType) -> str:
    """DuckDB column type for a Polars dtype, every leaf VARCHAR: what `_structure` asks of json_transform."""
    if isinstance(dtype, pl.Struct):
        return "STRUCT(" + ", ".join(f'"{f.name}" {_duck_type(f.dtype)}' for f in dtype.fields) + ")"
    if isinstance(dtype, pl.List):
        return _duck_type(dtype.inner) + "[]"
    return "VARCHAR"


def _sql_quote(text: str) -> str:
    return text.replace("'", "''")


def _careful_records(
    path: Path, source: str, schema: dict[str, pl.DataType], chunk_rows: int, chunk_bytes: int, skip_lines: int
) -> Iterator[pl.DataFrame]:
    """The line-by-line road: malformed lines become rows with `_reject`; lines up to skip_lines are
    already handed over."""
    pending: list[pl.DataFrame] = []
    rows, text = 0, 0
    for frame, size in _parsed_pieces(path, source, schema, chunk_rows, min(PARSE_BYTES, chunk_bytes), skip_lines):
        if rows + frame.height > chunk_rows:
            yield pl.concat(pending)
            pending, rows, text = [], 0, 0
        pending.append(frame)
        rows, text = rows + frame.height, text + size
        if text >= chunk_bytes:
            yield pl.concat(pending)
            pending, rows, text = [], 0, 0
    if pending:
        yield pl.concat(pending)
    release_database()


def _parsed_pieces(
    path: Path, source: str, schema: dict[str, pl.DataType], chunk_rows: int, parse_bytes: int, skip_lines: int = 0
) -> Iterator[tuple[pl.DataFrame, int]]:
    """Decoded pieces of at most chunk_rows records and about parse_bytes of text: (frame, text bytes)."""
    line_no, checked = 1, False
    first_record: bool | None
    with open(path, "rb") as fh:
        if skip_lines:  # lines the fast road handed over: a JSON-lines file whose first line is an object
            for _ in range(skip_lines):
                fh.readline()
            line_no, checked = skip_lines + 1, True
        while lines := fh.readlines(parse_bytes):
            if line_no == 1:
                lines[0] = lines[0].removeprefix(_BOM)
            if not checked:
                first_record = _first_record_is_object(lines, line_no, path, source)
                checked = bool(first_record)
                if first_record is None:  # not JSON lines: try the whole file as one document
                    for frame in _document_records(path, source, schema, chunk_rows):
                        yield frame, 0
                    return
            numbered = _numbered_lines(lines, line_no, path, source)
            for start in range(0, numbered.height, chunk_rows):
                piece = numbered.slice(start, chunk_rows)
                frame = parse_json_objects(piece, schema)
                if frame.height:
                    yield frame, int(piece["_text"].str.len_bytes().sum())
            line_no += len(lines)


def parse_json_objects(texts: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Decode `texts` (columns `_text`, `_line`): `schema` columns, `_line`, and `_reject` for non-objects.

    Null texts decode to an all-null row without `_reject` (blank lines are dropped before).
    """
    structure = json.dumps({name: _structure(dtype) for name, dtype in schema.items()})
    with _cursor() as cursor:
        cursor.register("texts", texts.select("_text", "_line"))
        # One parse per text: try() turns json_transform's error on malformed text into NULL, and a
        # text that starts with '{' and transforms is an object (`{}` gives a struct, not NULL).
        # Measured: 30% faster than a json_valid pass before the transform, same rejects.
        decoded = cursor.sql(
            """
            SELECT _line,
                   CASE WHEN _text IS NOT NULL AND _record IS NULL THEN ? END AS _reject,
                   _record
            FROM (
                SELECT _line, _text,
                       CASE WHEN starts_with(ltrim(_text), '{') THEN try(json_transform(_text, ?)) END AS _record
                FROM texts
            )
            """,
            params=[MALFORMED_JSON, structure],
        ).pl()
    if not decoded["_line"].is_sorted():  # DuckDB keeps insertion order; decode_json_text relies on it
        decoded = decoded.sort("_line")
    fields = decoded["_record"].struct.unnest() if decoded.height else pl.DataFrame(schema=schema)
    frame = pl.concat([fields, decoded.select("_line", "_reject")], how="horizontal")
    return frame.with_columns(
        [pl.col(name).cast(dtype) for name, dtype in schema.items()]
        + [pl.col("_line").cast(pl.Int64), pl.col("_reject").cast(pl.String)]
    )


def decode_json_text(texts: pl.Series, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Decode a column of JSON-object texts into `schema` columns, row for row, plus `_reject`.

    Absent texts (null, or any of `parse.NULL_SPELLINGS`: JSON `null`, Python `None`, empty) decode
    to an all-null row; texts that are not JSON objects to a row with `_reject`. Lenient where
    `str.json_decode` is strict: numbers or objects read into String fields as text, a mismatched
    nested shape reads as null.
    """
    frame = (
        pl.DataFrame({"_text": texts.cast(pl.String)})
        .with_columns(text_or_null(pl.col("_text")).alias("_text"))
        .with_row_index("_line")
    )
    return parse_json_objects(frame, schema).drop("_line")


def _structure(dtype: DataTypeClass | pl.DataType) -> object:
    """DuckDB json_transform structure for a Polars dtype: every leaf read as VARCHAR (text)."""
    if isinstance(dtype, pl.Struct):
        return {field.name: _structure(field.dtype) for field in dtype.fields}
    if isinstance(dtype, pl.List):
        return [_structure(dtype.inner)]
    return "VARCHAR"


def _numbered_lines(lines: list[bytes], first_line: int, path: Path, source: str) -> pl.DataFrame:
    """Non-blank lines of a chunk as text (`_text`) with their 1-based line numbers (`_line`)."""
    try:
        texts = pl.Series("_text", lines, dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:
        for offset, line in enumerate(lines):  # only to name the line that is not UTF-8
            _utf8(line, first_line + offset, path, source)
        raise
    return (
        pl.DataFrame({"_text": texts})
        .with_row_index("_line", offset=first_line)
        .filter(pl.col("_text").str.contains(r"\S"))
    )


def _utf8(data: bytes, first_line: int, path: Path | str, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise ReaderError(source, path, "not UTF-8 text: is the file in another encoding?", line=line) from exc


def _first_record_is_object(lines: list[bytes], first_line: int, path: Path, source: str) -> bool | None:
    """True when the first non-blank line is a JSON object, None when it is not JSON (maybe a document),
    False when every line here is blank (look at the next chunk)."""
    for offset, raw in enumerate(lines):
        line = _utf8(raw, first_line + offset, path, source)
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            return None
        if isinstance(value, list):
            return None
        if not isinstance(value, dict):
            raise ReaderError(
                source, path, "not JSON lines: the first record is not a JSON object", line=first_line + offset
            )
        return True
    return False


def _document_records(
    path: Path, source: str, schema: dict[str, pl.DataType], chunk_rows: int
) -> Iterator[pl.DataFrame]:
    if path.stat().st_size > DOCUMENT_LIMIT:
        raise ReaderError(source, path, "line 1 is not a JSON object; expected one JSON object per line", line=1)
    data = path.read_bytes().removeprefix(_BOM)
    try:
        document = loads_exact(_utf8(data, 1, path, source))
    except json.JSONDecodeError as exc:
        raise ReaderError(
            source, path, f"not JSON ({exc.msg}); expected one JSON object per line", line=exc.lineno
        ) from exc
    records = document if isinstance(document, list) else [document]
    # A document is small by construction (DOCUMENT_LIMIT): re-serializing its records is cheap, and
    # exact: numbers were kept as their literal text.
    for start in range(0, len(records), chunk_rows):
        batch = records[start : start + chunk_rows]
        texts = pl.DataFrame({"_text": [json.dumps(r) for r in batch]}).with_row_index("_line", offset=start + 1)
        frame = parse_json_objects(texts, schema)
        if frame.height:
            yield frame


def loads_exact(text: str) -> object:
    """JSON with every number kept as its literal text: money never round-trips through a binary float."""
    return json.loads(text, parse_int=str, parse_float=str, parse_constant=str)


def iter_json_values(path: Path, source: str) -> Iterator[tuple[int | None, object]]:
    """(JSONL line, or None for a whole document; decoded value) for each JSON value of the file.

    A file whose first value does not fit on its first line is one document; otherwise it is JSON
    lines, and a line that does not parse yields (line, None). A whole document that does not parse
    is a ReaderError naming its line.
    """
    try:
        if not _first_line_parses(path):
            text = path.read_text(encoding="utf-8-sig")
            try:
                yield None, loads_exact(text)
                return
            except json.JSONDecodeError as exc:
                # JSONL whose first line is broken: read it line by line; otherwise the file is unreadable
                if not any(_is_json_value(line) for line in text.splitlines()[1:]):
                    raise ReaderError(source, path, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
        with open(path, encoding="utf-8-sig") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield number, _try_loads(line)
    except UnicodeDecodeError as exc:
        raise ReaderError(source, path, f"not UTF-8 text ({exc.reason})") from exc


def _try_loads(line: str) -> object:
    try:
        return loads_exact(line)
    except json.JSONDecodeError:
        return None


def _is_json_value(line: str) -> bool:
    return isinstance(_try_loads(line), (dict, list))


def _first_line_parses(path: Path) -> bool:
    with open(path, encoding="utf-8-sig") as fh:
        for line in fh:
            if line.strip():
                return _is_json_value(line)
    return False
