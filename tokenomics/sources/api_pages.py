"""Provider report pages (OpenAI and Anthropic usage/cost APIs) and their CSV twins, as all-text rows.

The four provider-report readers share one shape: pages of time buckets of results. This module turns
a file of pages into flat, all-text rows (one per result) and holds the edge parsers they all need.

Files accepted: one page object ``{"data": [buckets...], "has_more": .., "next_page": ..}``, a JSON
list of pages (or of bare buckets), JSONL with one page per line, or (OpenAI only) the dashboard
CSV export. Pagination cursors are opaque and never followed: every page in the file is read.

Rows: nested fields are flattened with ``_`` (``amount.value`` -> ``amount_value``, the name the
OpenAI CSV export uses) and each result carries its bucket's fields (``start_time``/``end_time`` or
``starting_at``/``ending_at``). Every value stays text: JSON numbers keep their literal digits, so
``0.8958740000000000`` never passes through a float. ``_line`` is the JSONL line of the page, the
result's ordinal in a single JSON document, or the CSV line; ``_page`` numbers pages so group-by
evidence can be judged per API response. For conservation, a result is a row: empty buckets
(``results: []``) read nothing; CSV rows with only time columns are read and skipped.

These files are provider-side aggregates (one result per bucket and group), so parsing them with
the json module, one page at a time, is cheap; chunks never split a page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from tokenomics.sources.normalize import ReaderError, Staged
from tokenomics.sources.parse import parse_timestamp, text_or_null
from tokenomics.sources.text import has_columns, is_json_head, iter_csv_chunks, iter_json_values

TIME_COLUMNS = frozenset({"start_time", "end_time", "start_time_iso", "end_time_iso", "starting_at", "ending_at"})
MARKERS = ("_line", "_page", "_reject")
NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


# ---- reading files into all-text rows -------------------------------------------------------------


def has_json_key(head: bytes, key: str) -> bool:
    """True when `key` appears as an object key (not merely as a value) in the JSON text `head`."""
    return re.search(rb'"' + re.escape(key.encode()) + rb'"\s*:', head) is not None


def time_only_csv(head: bytes, path: Path, name_hint: str, other_hint: str) -> bool:
    """An export with only the four time columns (no usage at all) says nothing about its kind but its
    file name: claim it when the name mentions `name_hint` and not `other_hint` ('usage' / 'cost')."""
    first = head.decode("utf-8-sig", errors="ignore").split("\n", 1)[0].strip()
    names = {c.strip() for c in first.split(",")} if first else set()
    stem = Path(path).name.lower()
    return bool(names) and names <= TIME_COLUMNS and name_hint in stem and other_hint not in stem


def sniff_openai(path: Path, head: bytes, *, json_marker: bytes, csv_columns: set[str], kind: str, other: str) -> bool:
    """An OpenAI report: JSON pages whose results name `json_marker`, or the dashboard CSV export (its
    columns, or only the time columns and a file name that says `kind` and not `other`)."""
    if is_json_head(head):
        return json_marker in head
    return has_columns(head, csv_columns) or time_only_csv(head, path, kind, other)


def read_reports(
    path: Path,
    *,
    source: str,
    table: str,
    stage: Callable[[pl.DataFrame], pl.DataFrame],
    chunk_rows: int,
    kind: str | None = None,
    csv: bool = True,
) -> Iterator[Staged]:
    """Staged `table` chunks of a report file: rows without usage (and of another `kind`) skipped."""
    for rows in read_report_rows(Path(path), source=source, chunk_rows=chunk_rows, csv=csv):
        kept, skipped = split_unread(rows, kind)
        yield Staged(table, stage(kept), skipped)


def read_report_rows(path: Path, *, source: str, chunk_rows: int, csv: bool = True) -> Iterator[pl.DataFrame]:
    """All-text row frames with `_line`, `_page`, `_reject` from JSON pages or (if `csv`) a CSV export."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        return
    if is_json_head(head):
        yield from _frames(_page_rows(path, source), chunk_rows)
    elif csv:
        for chunk in iter_csv_chunks(path, source=source, chunk_rows=chunk_rows):
            yield chunk.with_columns(pl.lit(None, pl.Int64).alias("_page"), pl.lit(None, pl.String).alias("_reject"))
    else:
        raise ReaderError(source, path, 'expected JSON report pages ({"data": [...]}), found something else', line=1)


def _page_rows(path: Path, source: str) -> Iterator[list[dict[str, str | int | None]]]:
    """Rows of one page at a time (pages are never split across chunks)."""
    ordinal, page_no = 0, 0
    for line, doc in iter_json_values(path, source):
        # a file whose first document is not a report (e.g. a saved API error) is not this format;
        # a stray non-page line further down a JSONL file is quarantined instead
        if page_no == 0 and doc is not None and not (isinstance(doc, list) or _is_page(doc) or _is_bucket(doc)):
            raise ReaderError(source, path, "not a report page: expected an object with a 'data' list", line=line or 1)
        for page in doc if isinstance(doc, list) else [doc]:
            page_no += 1
            rows: list[dict[str, str | int | None]] = []
            for row in _explode(page):
                ordinal += 1
                rows.append({**row, "_line": line if line is not None else ordinal, "_page": page_no})
            yield rows


def _is_page(doc: object) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("data"), list)


def _is_bucket(doc: object) -> bool:
    return isinstance(doc, dict) and "results" in doc and "data" not in doc


def _explode(page: object) -> list[dict[str, str | None]]:
    """One row per result, each carrying its bucket's fields; a broken part becomes one rejected row."""
    if page is None:
        return [{"_reject": "malformed_json"}]
    if _is_bucket(page):
        page = {"data": [page]}
    if not isinstance(page, dict) or not _is_page(page):
        return [{"_reject": "not_a_report_page"}]
    rows: list[dict[str, str | None]] = []
    for bucket in page["data"]:
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results", []), list):
            rows.append({"_reject": "malformed_bucket"})
            continue
        bounds = _flatten({k: v for k, v in bucket.items() if k not in ("results", "object")})
        for result in bucket.get("results", []):
            rows.append({**bounds, **_flatten(result)} if isinstance(result, dict) else {"_reject": "malformed_result"})
    return rows


def _flatten(obj: dict, prefix: str = "", out: dict | None = None) -> dict[str, str | None]:
    out = {} if out is None else out
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, f"{name}_", out)
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = json.dumps(value)
        else:
            out[name] = None if value in (None, "") else str(value)
    return out


def _frames(pages: Iterator[list[dict[str, str | int | None]]], chunk_rows: int) -> Iterator[pl.DataFrame]:
    rows: list[dict[str, str | int | None]] = []
    for page in pages:
        rows.extend(page)
        if len(rows) >= chunk_rows:
            yield _frame(rows)
            rows = []
    if rows:
        yield _frame(rows)


def _frame(rows: list[dict[str, str | int | None]]) -> pl.DataFrame:
    frame = pl.from_dicts(rows, infer_schema_length=None)
    for marker in MARKERS:
        if marker not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(marker))
    return frame.with_columns(pl.exclude("_line", "_page").cast(pl.String), pl.col("_line", "_page").cast(pl.Int64))


def split_unread(rows: pl.DataFrame, kind: str | None = None) -> tuple[pl.DataFrame, int]:
    """Drop rows that carry no usage, returning how many were skipped: CSV rows with only time columns,
    and (when `kind` is given) results of another endpoint, e.g. embeddings in a completions file."""
    content = [c for c in rows.columns if c not in TIME_COLUMNS and c != "object" and not c.startswith("_")]
    unread = pl.all_horizontal([pl.col(c).is_null() for c in content]) if content else pl.lit(True)
    if kind and "object" in rows.columns:
        unread = unread | (pl.col("object").is_not_null() & ~pl.col("object").str.contains(kind, literal=True))
    unread = unread & pl.col("_reject").is_null()
    kept = rows.filter(~unread)
    return kept, rows.height - kept.height


# ---- edge parsers: text in, loosely typed values out ---------------------------------------------


def field(rows: pl.DataFrame, *names: str) -> pl.Expr:
    """First present value among `names` (schema drift: absent columns read as null)."""
    present = [text_or_null(pl.col(n)) for n in names if n in rows.columns]
    if not present:
        return pl.lit(None, pl.String)
    return pl.coalesce(present) if len(present) > 1 else present[0]


def openai_bucket(rows: pl.DataFrame) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(start, end, start text) of an OpenAI bucket: Unix seconds, or the CSV export's `*_iso` columns."""

    def bound(name: str) -> pl.Expr:
        return pl.coalesce(parse_timestamp(field(rows, name)), parse_timestamp(field(rows, f"{name}_iso")))

    return bound("start_time"), bound("end_time"), field(rows, "start_time", "start_time_iso")


def workspace_or_default(rows: pl.DataFrame, column: str = "workspace_id") -> pl.Expr:
    """Anthropic reports a null workspace_id both for the default workspace and when not grouped by
    workspace. On a page where some result names a workspace the report was grouped, so null there
    is the default workspace ('default'); on a page with none we cannot tell, and keep null."""
    if column not in rows.columns:
        return pl.lit(None, pl.String)
    ws = field(rows, column)
    grouped = ws.is_not_null().any().over("_page")
    return pl.when(ws.is_not_null()).then(ws).when(grouped).then(pl.lit("default"))


def line_id(rows: pl.DataFrame, start: pl.Expr, end: pl.Expr, ignore: tuple[str, ...] = ()) -> pl.Expr:
    """Stable id of a result: its bucket bounds plus every field whose value is not a number.

    Group-by fields are text (ids, names, tiers, booleans) and measures are numbers, so this keeps
    known group-bys and any new one (distinct groups never collide) while leaving measures out: the
    same bucket delivered twice, or restated with new numbers, gets the same id and dedup keeps one
    version instead of summing two. Null fields are left out, so an older file without a newer
    group-by field gets the same id as a newer file where it is null.
    """
    skip = TIME_COLUMNS | {"object", *ignore}
    iso = "%Y-%m-%dT%H:%M:%SZ"
    parts = [start.dt.strftime(iso), end.dt.strftime(iso)]
    for name in sorted(c for c in rows.columns if not c.startswith("_") and c not in skip):
        value = pl.col(name).str.strip_chars()
        lower = value.str.to_lowercase()
        value = (
            pl.when(value.str.contains(NUMBER))
            .then(pl.lit(None, pl.String))
            # the CSV export writes FALSE where the API writes false: one spelling for the id
            .when(lower.is_in(["true", "false"]))
            .then(lower)
            .otherwise(value)
        )
        parts.append(pl.lit(f"{name}=") + value)
    return pl.concat_str(parts, separator="|", ignore_nulls=True)


def stage(rows: pl.DataFrame, canonical: dict[str, pl.Expr], rejects: list[pl.Expr]) -> pl.DataFrame:
    """Canonical columns, then the record's own fields (kept so quarantine `raw` shows what was read),
    `_line`, and `_reject` (the reader's reasons after any reason set while reading)."""
    own = [c for c in rows.columns if c not in canonical and not c.startswith("_")]
    return rows.select(
        *[expr.alias(name) for name, expr in canonical.items()],
        *own,
        "_line",
        pl.coalesce([pl.col("_reject"), *rejects]).alias("_reject"),
    )
