"""Steps shared by the gateway request-log readers (Helicone, Portkey, Cloudflare AI Gateway, Langfuse, OpenRouter).

Each of these readers reads its rows as text (JSON lines, a JSON array, an API answer whose records sit
under an envelope key such as `data` or `result`, or a CSV export), maps them to usage_events, and
needs the same small pieces: provider spellings of the gateways, HTTP status to 'ok'/'error', money
text in a scaled unit, labels from a metadata object and a team hint among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.providers import normalize_provider
from tokenomics.schema import MONEY
from tokenomics.sources.csvio import iter_csv_chunks
from tokenomics.sources.jsonio import blank_to_null, iter_json_records
from tokenomics.sources.labels import json_object_labels
from tokenomics.sources.normalize import Staged

S = pl.String

TEAM_KEY = r"(?i)^(team|team[_\-. ]?(id|name|alias))$"
"""Metadata / custom property keys taken as the gateway's team hint."""


def is_json_head(head: bytes) -> bool:
    """True when a file's first bytes start a JSON value (object or array), BOM and blanks aside."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def iter_text_rows(
    path: Path, *, source: str, fields: dict[str, pl.DataType], envelope: str | None, chunk_rows: int
) -> Iterator[pl.DataFrame]:
    """Text frames with every name in `fields`, `_line` and `_reject`, from JSON or CSV.

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
        yield frame.with_columns(*missing, pl.lit(None, S).alias("_reject")).select(*fields, "_line", "_reject")


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


def split_unreadable(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows the JSON reader already rejected, as `_line`/`_reject` only; the readable rows)."""
    unreadable = frame.filter(pl.col("_reject").is_not_null()).select("_line", "_reject")
    return unreadable, frame.filter(pl.col("_reject").is_null())


def staged_events(staged: pl.DataFrame, unreadable: pl.DataFrame, skipped: int = 0) -> Staged:
    """One usage_events chunk: mapped rows plus the unreadable ones (quarantined by normalize)."""
    return Staged("usage_events", pl.concat([staged, unreadable], how="diagonal_relaxed"), skipped=skipped)


def gateway_provider(raw: pl.Expr) -> pl.Expr:
    """Canonical provider from a gateway's provider name (case and dashes as the gateway writes them)."""
    return normalize_provider(blank_to_null(raw).fill_null(""))


def truthy(text: pl.Expr) -> pl.Expr:
    """Boolean from JSON/CSV text: true/True/TRUE/1; null stays null."""
    return blank_to_null(text).str.to_lowercase().is_in(["true", "1", "t", "yes"])


def http_failed(code_text: pl.Expr) -> pl.Expr:
    """True for an HTTP status >= 400 or a negative sentinel (request never completed); False otherwise."""
    code = blank_to_null(code_text).cast(pl.Float64, strict=False)
    return ((code >= 400) | (code < 0)).fill_null(False)


def ok_or_error(failed: pl.Expr) -> pl.Expr:
    return pl.when(failed).then(pl.lit("error")).otherwise(pl.lit("ok"))


def scaled_money(text: pl.Expr, divisor: int) -> pl.Expr:
    """Decimal money from text counted in 1/divisor dollars (exact: Decimal(38, 12) arithmetic, no float)."""
    amount = blank_to_null(text).cast(MONEY, strict=False)
    return amount if divisor == 1 else amount / divisor


def bad_money(text: pl.Expr) -> pl.Expr:
    """True where money text is present but is not a number."""
    present = blank_to_null(text)
    return (present.is_not_null() & present.cast(MONEY, strict=False).is_null()).fill_null(False)


def metadata_labels(texts: pl.Series, strip_prefix: str | None = None) -> pl.Series:
    """LABELS from JSON-object texts (string values under harmless keys), key prefix removed (case-insensitive)."""
    labels = json_object_labels(texts)
    if not strip_prefix:
        return labels
    key = pl.element().struct.field("key").str.replace(f"(?i)^{strip_prefix}", "")
    return pl.DataFrame({"l": labels}).select(
        pl.col("l").list.eval(pl.element().struct.with_fields(key.alias("key")))
    )["l"].rename(labels.name)


def label_value(labels: pl.Expr, key_pattern: str) -> pl.Expr:
    """Value of the first label whose key matches `key_pattern` (null when none does)."""
    el = pl.element()
    return labels.list.eval(el.filter(el.struct.field("key").str.contains(key_pattern)).struct.field("value")).list.first()


def json_field(texts: pl.Expr, name: str) -> pl.Expr:
    """One top-level string/number field of JSON-object text (e.g. Portkey metadata `_user`)."""
    return texts.str.json_path_match(f"$.{name}")
