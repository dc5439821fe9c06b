"""Steps the whole-cloud bill readers share (aws_cur, azure_cost, gcp_billing, focus).

A whole-cloud bill mixes every service an organization buys; these readers keep only the lines of AI
model services and count the rest as skipped (DESIGN section 4). What they have in common lives here:
streaming CSV or Parquet in bounded chunks, finding columns however the export spells them, money as
exact decimal text, timestamps in the formats the bills use, tags as JSON object text, stable line
ids, and consumed quantities converted out of unit-of-measure blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import cast

import polars as pl

from tokenomics.schema import MONEY, UTC_TS
from tokenomics.sources.cloud_skus import SKU_PARSERS, consumed_unit_name, unit_block
from tokenomics.sources.normalize import ReaderError, Staged
from tokenomics.sources.parse import money_text as parse_money_text
from tokenomics.sources.parse import parse_money, parse_timestamp, text_or_null, unparsed
from tokenomics.sources.text import csv_columns, iter_csv_chunks

TABLE = "billing_lines"

CELLS_PER_CHUNK = 1_000_000
"""Wide bills (CUR has 100+ columns) are read in fewer rows per chunk, so memory stays bounded by cells."""

PARQUET_MAGIC = b"PAR1"

STAGED_COLUMNS = (
    "charge_period_start",
    "charge_period_end",
    "provider",
    "billing_account_id",
    "sub_account_id",
    "service_name",
    "sku",
    "model",
    "token_type",
    "consumed_quantity",
    "consumed_unit",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "billing_currency",
    "tags",
    "line_id",
)


# ---------------------------------------------------------------- finding columns


def column_key(name: str) -> str:
    """One spelling for every export's column names: `lineItem/UsageType`, `line_item_usage_type`,
    `MeterCategory`, `meterCategory`, `service.description` -> snake case."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")


class Columns:
    """The header of one file, looked up by `column_key` so casing and separators do not matter."""

    def __init__(self, names: Iterable[str], *, source: str, path: Path):
        self.names = list(names)
        self.source, self.path = source, path
        self._by_key: dict[str, str] = {}
        for name in self.names:
            self._by_key.setdefault(column_key(name), name)

    def get(self, *candidates: str) -> str | None:
        """The file's name for the first candidate it has, or None (an optional column)."""
        return next((self._by_key[k] for k in map(column_key, candidates) if k in self._by_key), None)

    def require(self, *candidates: str) -> str:
        """Like `get`, but a file without the column cannot be read: say which column and file."""
        found = self.get(*candidates)
        if found is None:
            spelled = " or ".join(f"'{c}'" for c in candidates)
            raise ReaderError(self.source, self.path, f"missing required column {spelled}", line=1)
        return found

    def starting_with(self, prefix: str) -> list[str]:
        """Every column whose key starts with `prefix` (legacy CUR's one column per activated tag)."""
        key = column_key(prefix)
        return [n for n in self.names if column_key(n).startswith(key)]


def is_parquet(head: bytes) -> bool:
    return head[:4] == PARQUET_MAGIC


def file_columns(path: Path, head: bytes) -> list[str]:
    """Top-level column names from a CSV header or a Parquet schema ([] when neither can be read)."""
    if is_parquet(head):
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception:  # noqa: BLE001 - sniffing must never raise
            return []
    text = head.decode("utf-8-sig", errors="ignore")
    first = text.split("\n", 1)[0].strip("\r")
    if not first or first.lstrip().startswith(("{", "[")):
        return []
    import csv

    try:
        return [c.strip() for c in next(csv.reader([first]))]
    except csv.Error:  # binary content (a compressed file): not a CSV header
        return []


def header_has(path: Path, head: bytes, *required: str) -> bool:
    """True when the file's header (CSV or Parquet, see `file_columns`) has every required column."""
    return has_keys(file_columns(path, head), *required)


def has_keys(columns: Iterable[str], *required: str) -> bool:
    """True when every required name is among `columns`, compared by `column_key`."""
    keys = {column_key(c) for c in columns}
    return all(column_key(r) in keys for r in required)


# ---------------------------------------------------------------- streaming rows


def chunk_rows_for(width: int, chunk_rows: int) -> int:
    return max(1_000, min(chunk_rows, CELLS_PER_CHUNK // max(width, 1)))


def bill_columns(path: Path, source: str) -> list[str]:
    """The file's column names (CSV header or Parquet schema); a header-only file still has them."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if is_parquet(head):
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:
            raise ReaderError(source, path, f"cannot read Parquet schema: {exc}") from exc
    return csv_columns(path, source)


def iter_bill_frames(path: Path, *, source: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Stream a CSV (all text) or Parquet (native types) bill in bounded chunks with `_line`.

    For Parquet, `_line` is the 1-based record number and map columns arrive as lists of
    {key, value} structs, the same shape as GCP's label arrays.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not is_parquet(head):
        width = len(csv_columns(path, source))
        yield from iter_csv_chunks(path, source=source, chunk_rows=chunk_rows_for(width, chunk_rows))
        return
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        batches = parquet.iter_batches(batch_size=chunk_rows_for(len(parquet.schema_arrow.names), chunk_rows))
        offset = 1
        for batch in batches:
            frame = cast(pl.DataFrame, pl.from_arrow(batch))
            maps = [c for c, t in frame.schema.items() if isinstance(t, pl.Map)]
            frame = frame.with_columns(pl.col(c).map.entries() for c in maps).with_columns(
                pl.int_range(offset, offset + frame.height, dtype=pl.Int64).alias("_line")
            )
            offset += frame.height
            if frame.height:
                yield frame
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise ReaderError(source, path, f"cannot read Parquet: {exc}") from exc


def read_bill(
    path: Path,
    *,
    source: str,
    required: Iterable[tuple[str, ...]],
    keep: Callable[[pl.DataFrame, Columns], pl.Expr],
    stage: Callable[[pl.DataFrame, Columns], pl.DataFrame],
    chunk_rows: int,
) -> Iterator[Staged]:
    """Staged billing_lines of one bill: the lines `keep` accepts, staged; every other line skipped.

    Each entry of `required` is a column the file cannot be read without (any one of its spellings),
    checked before any row is read. A file with no columns at all (empty) reads nothing.
    """
    cols = Columns(bill_columns(path, source), source=source, path=path)
    if not cols.names:
        return
    for candidates in required:
        cols.require(*candidates)
    for raw in iter_bill_frames(path, source=source, chunk_rows=chunk_rows):
        kept = raw.filter(keep(raw, cols).fill_null(False))
        yield Staged(TABLE, stage(kept, cols), skipped=raw.height - kept.height)


def text(frame: pl.DataFrame, name: str | None) -> pl.Expr:
    """A column as trimmed text (null when absent or blank): the common ground of CSV and Parquet."""
    if name is None:
        return pl.lit(None, pl.String)
    return text_or_null(pl.col(name))


def contains(expr: pl.Expr, pattern: str) -> pl.Expr:
    """Case-insensitive regex match, false on null."""
    return expr.str.contains(f"(?i){pattern}").fill_null(False)


# ---------------------------------------------------------------- money


def money_text(frame: pl.DataFrame, name: str | None) -> pl.Expr:
    """Money as exact decimal text, staged for normalize's strict cast to Decimal.

    CSV text is kept digit for digit (surrounding quotes and blanks dropped). Parquet doubles are
    written as their shortest round-trip text (0.004596 stays "0.004596"); the artefacts of binary
    arithmetic beyond 12 fractional digits (0.00022500000000000002) round away in MONEY's scale.
    Decimal columns are exact already.
    """
    if name is None:
        return pl.lit(None, pl.String)
    return parse_money_text(pl.col(name))


def decimal(frame: pl.DataFrame, name: str | None) -> pl.Expr:
    """Money or quantity as an exact Decimal (null when absent or unparseable) for arithmetic."""
    return pl.lit(None, MONEY) if name is None else parse_money(pl.col(name))


# ---------------------------------------------------------------- timestamps


def utc_timestamp(frame: pl.DataFrame, name: str | None) -> pl.Expr:
    """A column as a UTC timestamp: Parquet timestamps (naive ones are UTC) or text (`parse_utc`)."""
    if name is None:
        return pl.lit(None, UTC_TS)
    dtype = frame.schema[name]
    if isinstance(dtype, pl.Datetime):
        col = pl.col(name).dt.cast_time_unit("us")
        return col.dt.replace_time_zone("UTC") if dtype.time_zone is None else col.dt.convert_time_zone("UTC")
    if dtype == pl.Date:
        return pl.col(name).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return parse_utc(text(frame, name))


def parse_utc(text: pl.Expr) -> pl.Expr:
    """A UTC timestamp from text as the bills spell it: `parse_timestamp` with US (month-first) dates."""
    return parse_timestamp(text, us_dates=True)


# ---------------------------------------------------------------- tags and JSON text


def tags_from_pairs(pairs: pl.Expr, strip_prefix: str | None = None) -> pl.Expr:
    """JSON object text from a list of {key, value} structs (Parquet maps, GCP labels); null when empty."""
    el = pl.element()
    key = el.struct.field("key")
    if strip_prefix:
        key = key.str.strip_prefix(strip_prefix)
    entry = pl.struct(key.alias("k"), el.struct.field("value").cast(pl.String).alias("v")).struct.json_encode()
    inner = (
        pairs.list.eval(el.sort_by(el.struct.field("key")))
        .list.eval(entry.str.replace(r'^\{"k":(.*),"v":(.*)\}$', "${1}:${2}"))
        .list.join(",")
    )
    return pl.when(pairs.list.len() > 0).then(pl.concat_str(pl.lit("{"), inner, pl.lit("}")))


def tags_from_columns(columns: dict[str, str]) -> pl.Expr:
    """JSON object text from one column per tag (legacy CUR `resourceTags/user:team`), {tag key: column}."""
    if not columns:
        return pl.lit(None, pl.String)
    pairs = pl.concat_list(
        pl.struct(pl.lit(key).alias("key"), pl.col(col).cast(pl.String).alias("value")) for key, col in columns.items()
    ).list.eval(pl.element().filter(pl.element().struct.field("value").is_not_null()))
    return tags_from_pairs(pairs)


def tags_from_text(values: pl.Series, strip_prefix: str | None = None) -> pl.Series:
    """Canonical JSON object text from tag text, parsed once per distinct value.

    Accepts a JSON object (FOCUS, CUR 2.0 CSV maps), Azure's object without braces
    (`"team": "search","env": "prod"`) and a JSON array of {key, value} (GCP labels in CSV).
    Text that is not JSON is kept under `_unparsed` so the billed line itself is never lost.
    """
    mapping = {v: _canonical_tags(v, strip_prefix) for v in values.drop_nulls().unique().to_list()}
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def _canonical_tags(raw: str, strip_prefix: str | None) -> str | None:
    body = raw.strip()
    if body in ("", "{}", "[]"):
        return None
    if not body.startswith(("{", "[")):
        body = "{" + body + "}"
    try:
        parsed = json.loads(body)
    except ValueError:
        return json.dumps({"_unparsed": raw}, ensure_ascii=False)
    if isinstance(parsed, list):
        parsed = {
            str(p.get("key", p.get("Key"))): p.get("value", p.get("Value")) for p in parsed if isinstance(p, dict)
        }
    if not isinstance(parsed, dict):
        return json.dumps({"_unparsed": raw}, ensure_ascii=False)
    tags = {
        (k.removeprefix(strip_prefix) if strip_prefix else k): (v if v is None or isinstance(v, str) else json.dumps(v))
        for k, v in parsed.items()
    }
    return json.dumps(tags, ensure_ascii=False, separators=(",", ":"), sort_keys=True) if tags else None


def decode_json(values: pl.Series, dtype: pl.DataType) -> tuple[pl.Series, pl.Series]:
    """Decode JSON text into `dtype` (numbers declared String keep their exact digits), and say which
    values could not be decoded. One bad value fails a vectorized decode, so the bad ones are found
    by bisection: a handful of extra decodes, never one per row."""
    try:
        return values.str.json_decode(dtype), pl.repeat(False, values.len(), eager=True)
    except pl.exceptions.ComputeError:
        if values.len() == 1:
            return pl.Series(values.name, [None], dtype=dtype), pl.Series([True])
    middle = values.len() // 2
    (left, left_bad), (right, right_bad) = decode_json(values[:middle], dtype), decode_json(values[middle:], dtype)
    return left.append(right), left_bad.append(right_bad)


# ---------------------------------------------------------------- line ids


def content_hash(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """MD5 of each row's raw content: a line id stable across runs and library versions.

    Used where a bill has no native line id. The row's text is joined and hashed by DuckDB one
    vector at a time, so no row-wide string column is ever built. A row identical to an earlier one
    in the same chunk gets `#2`, `#3`...: the same file delivered twice deduplicates, while two
    genuinely identical lines of one file are both kept.
    """
    import duckdb

    as_text = []
    for i, name in enumerate(columns):
        dtype = frame.schema[name]
        col = pl.col(name)
        if dtype.is_nested():
            col = pl.struct(col).struct.json_encode()
        elif dtype != pl.String:
            col = col.cast(pl.String)
        as_text.append(col.alias(f"c{i}"))  # positional names: no header text ever reaches the SQL
    texts = frame.select(as_text).to_arrow()
    fields = ", ".join(f"coalesce(c{i}, chr(0))" for i in range(len(columns)))
    con = duckdb.connect()
    try:
        con.register("texts", texts)
        hashed = con.sql(f"SELECT md5(concat_ws(chr(31), {fields})) AS h FROM texts").to_arrow_table()
        digest = cast(pl.DataFrame, pl.from_arrow(hashed))
    finally:
        con.close()
    nth = pl.col("h").cum_count().over("h")
    return digest.select(
        pl.when(nth > 1).then(pl.concat_str("h", pl.lit("#"), nth.cast(pl.String))).otherwise("h").alias("line_id")
    ).to_series()


# ---------------------------------------------------------------- model, token type, quantity


def with_model_and_token_type(frame: pl.DataFrame, parser: str | None) -> pl.DataFrame:
    """Add `model` and `token_type` from the staged `sku` (and `_hint`, e.g. a product name), parsing
    each distinct pair once with the named cloud_skus parser (None: the per-row `_parser` column)."""
    if "_hint" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("_hint"))
    if parser is not None:
        frame = frame.with_columns(pl.lit(parser).alias("_parser"))
    keys = ["sku", "_hint", "_parser"]
    parsed = [(s, h, p, *SKU_PARSERS[p](s, h)) for s, h, p in frame.select(keys).unique().iter_rows()]
    lookup = pl.DataFrame(
        parsed,
        schema={**dict.fromkeys(keys, pl.String), "model": pl.String, "token_type": pl.String},
        orient="row",
    )
    return frame.join(lookup, on=keys, how="left", nulls_equal=True, maintain_order="left").drop("_hint", "_parser")


def with_consumed(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `consumed_quantity` (staged `_quantity` x the block of `_unit`, exact) and `consumed_unit`.

    Needs `token_type`. Azure counts `Quantity` in `UnitOfMeasure` blocks ('1K', '1M', '10K'):
    1250.337 x 1K = 1,250,337 tokens. A quantity that is there but is not a number sets `_bad_quantity`.
    """
    pairs = frame.select("_unit", "token_type").unique()
    rows = []
    for unit, token_type in pairs.iter_rows():
        block, name = unit_block(unit)
        rows.append((unit, token_type, str(block), consumed_unit_name(name, token_type)))
    lookup = pl.DataFrame(
        rows,
        schema={"_unit": pl.String, "token_type": pl.String, "_block": pl.String, "consumed_unit": pl.String},
        orient="row",
    ).with_columns(pl.col("_block").cast(pl.Decimal(38, 6)))
    frame = frame.join(lookup, on=["_unit", "token_type"], how="left", nulls_equal=True, maintain_order="left")
    parsed = pl.col("_quantity").cast(MONEY, strict=False)
    return frame.with_columns(
        (parsed * pl.col("_block")).alias("consumed_quantity"),
        unparsed(pl.col("_quantity"), parsed, "bad_consumed_quantity").alias("_bad_quantity"),
    ).drop("_quantity", "_unit", "_block")


def complete(
    staged: pl.DataFrame, parser: str | None, *reasons: pl.Expr, tag_prefix: str | None = None
) -> pl.DataFrame:
    """Finish a reader's staged frame: model and token type from the sku, consumed quantity and unit,
    tags from `_tags_text` when the bill spells them as text, and `_reject` from the first reason
    that applies (a timestamp or quantity that is there but does not parse, or a reader's own).

    Expects `sku`, `_quantity` and `_unit` beside the canonical columns; optionally `_hint` (helps
    the sku parser) and `_start_raw`/`_end_raw` (the timestamps' text as read).
    """
    staged = with_consumed(with_model_and_token_type(staged, parser))
    if "_tags_text" in staged.columns:
        staged = staged.with_columns(tags_from_text(staged.get_column("_tags_text"), tag_prefix).alias("tags"))
    periods = [("charge_period_start", "_start_raw"), ("charge_period_end", "_end_raw")]
    checks = [
        *reasons,
        *[unparsed(pl.col(raw), pl.col(col), f"bad_{col}") for col, raw in periods if raw in staged.columns],
        pl.col("_bad_quantity"),
    ]
    return staged.select(
        *[c for c in STAGED_COLUMNS if c in staged.columns],
        "_line",
        pl.coalesce(*checks).alias("_reject"),
    )
