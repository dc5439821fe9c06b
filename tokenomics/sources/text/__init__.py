"""Text rows from a file that may be JSON or CSV, and the sniffing every such reader shares.

- `iter_text_rows`: a gateway's records as JSON lines, a JSON array or document, an API answer with
  its records under an envelope key, or a CSV export, always as the same text columns;
- `names_fields`: whether a file's head is JSON or CSV naming the fields of a format.
Every reader reads text through this package and nothing else. Underneath, one module per syntax:
`csvio` streams CSV (bills, report exports, gateway exports), `jsonio` streams JSON lines through
DuckDB and decodes whole documents exactly (`loads_exact`, the one JSON decoder for documents).
Values stay text; `tokenomics.sources.parse` types them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources.text.csvio import csv_columns, has_columns, iter_csv_chunks, open_csv_bytes, record_start_lines
from tokenomics.sources.text.jsonio import (
    decode_json_text,
    iter_json_records,
    iter_json_values,
    loads_exact,
    parse_json_objects,
    release_database,
)

__all__ = [
    "csv_columns",
    "decode_json_text",
    "has_columns",
    "is_json_head",
    "iter_csv_chunks",
    "iter_json_records",
    "iter_json_values",
    "iter_text_rows",
    "loads_exact",
    "names_fields",
    "open_csv_bytes",
    "parse_json_objects",
    "record_start_lines",
    "release_database",
]

BOM = b"\xef\xbb\xbf"


def is_json_head(head: bytes) -> bool:
    """True when a file's first bytes start a JSON value (object or array), BOM and blanks aside."""
    return head.removeprefix(BOM).lstrip(b" \t\r\n")[:1] in (b"{", b"[")


def names_fields(head: bytes, *, json_keys: Iterable[str] = (), csv_columns: Iterable[str] = ()) -> bool:
    """True when a file's head is JSON naming every key of `json_keys`, or a CSV whose header has every
    name of `csv_columns` (a format without one of the two never matches it)."""
    keys, columns = list(json_keys), set(csv_columns)
    if is_json_head(head):
        return bool(keys) and all(b'"' + key.encode() + b'"' in head for key in keys)
    return bool(columns) and has_columns(head, columns)


def iter_text_rows(
    path: Path, *, source: str, fields: dict[str, pl.DataType], envelope: str | None = None, chunk_rows: int
) -> Iterator[pl.DataFrame]:
    """Frames with every name in `fields`, `_line` and `_reject` (a JSON line that is not an object),
    from JSON (lines, array or one document) or a CSV export. An empty file reads as JSON: nothing.

    JSON records holding a list under `envelope` (an API answer saved as is, or one page per line)
    are replaced by the records of that list, each numbered with the line of its page.
    """
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if is_json_head(head) or not head.strip():
        schema = dict(fields)
        if envelope:
            schema[envelope] = pl.List(pl.Struct(fields))
        for frame in iter_json_records(path, source=source, schema=schema, chunk_rows=chunk_rows):
            yield _unwrap(frame, list(fields), envelope) if envelope else frame
        return
    for frame in iter_csv_chunks(path, source=source, chunk_rows=chunk_rows):
        missing = [pl.lit(None, dtype).alias(c) for c, dtype in fields.items() if c not in frame.columns]
        yield frame.with_columns(*missing, pl.lit(None, pl.String).alias("_reject")).select(*fields, "_line", "_reject")


def _unwrap(frame: pl.DataFrame, names: list[str], envelope: str) -> pl.DataFrame:
    wrapped = pl.col(envelope).is_not_null() & pl.col("_reject").is_null()
    plain = frame.filter(~wrapped).select(*names, "_line", "_reject")
    inner = (
        frame.filter(wrapped)
        .select(envelope, "_line", "_reject")
        .explode(envelope)
        .filter(pl.col(envelope).is_not_null())
    )
    unwrapped = inner.select(pl.col(envelope).struct.unnest(), "_line", "_reject").select(*names, "_line", "_reject")
    return pl.concat([plain, unwrapped]).sort("_line", maintain_order=True)
