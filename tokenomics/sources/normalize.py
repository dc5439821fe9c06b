"""Steps every reader shares: cast into the canonical schema, row rules, quarantine, counts.

A reader only parses its format and maps fields; it hands over a *staged* frame holding canonical
column names with loosely typed values, plus `_line` (1-based line or record number in the file) and,
optionally, `_reject` (a reason the reader already knows, e.g. an undecodable JSON line). Everything
after that is decided here, once, for all readers; except dedup, which needs every file of the day
and is streamed over them by `tokenomics.ingest`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tokenomics.privacy import redact_secrets, safe_labels
from tokenomics.schema import AUDIO_COLUMNS, QUARANTINE, TABLES, TOKEN_COLUMNS


class ReaderError(Exception):
    """A file that cannot be read at all: names the reader, the file and the line."""

    def __init__(self, source: str, path: Path | str, message: str, line: int | None = None):
        where = f"line {line} of {Path(path).name}" if line else Path(path).name
        super().__init__(f"{source}: {message} ({where}, {path})")
        self.source, self.path, self.line = source, str(path), line


@dataclass(frozen=True)
class Staged:
    """One chunk a reader produced: rows for `table`, plus rows it skipped on purpose (non-AI lines)."""

    table: str
    frame: pl.DataFrame
    skipped: int = 0


@dataclass
class FileCounts:
    """Conservation per file: read = kept + quarantined + deduplicated + skipped."""

    source: str
    file: str
    read: int = 0
    kept: int = 0
    quarantined: int = 0
    deduplicated: int = 0
    skipped: int = 0

    @property
    def balanced(self) -> bool:
        return self.read == self.kept + self.quarantined + self.deduplicated + self.skipped

    def as_dict(self) -> dict[str, int | str]:
        return {
            k: getattr(self, k) for k in ("source", "file", "read", "kept", "quarantined", "deduplicated", "skipped")
        }


@dataclass
class Normalized:
    """Conformed rows of one chunk: kept per table and quarantined rows."""

    kept: dict[str, pl.DataFrame] = field(default_factory=dict)
    quarantine: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE))


def _nonneg(*cols: str) -> pl.Expr:
    return pl.any_horizontal([pl.col(c) < 0 for c in cols])


AUDIO_RULES = [
    ("negative_tokens", _nonneg(*AUDIO_COLUMNS)),
    (
        "audio_exceeds_input",
        (pl.col("cache_read_tokens") + pl.col("cache_write_tokens") + pl.col("input_audio_tokens"))
        > pl.col("input_tokens"),
    ),
    ("audio_exceeds_output", pl.col("output_audio_tokens") > pl.col("output_tokens")),
]
"""Audio tokens are subsets: uncached audio input inside input (beside the cache), audio output inside output."""

# Row rules: (reason code, expression true for a *bad* row). First matching rule names the reason.
ROW_RULES: dict[str, list[tuple[str, pl.Expr]]] = {
    "usage_events": [
        ("missing_event_id", pl.col("event_id").is_null() | (pl.col("event_id") == "")),
        ("missing_timestamp", pl.col("ts").is_null()),
        ("missing_model", pl.col("model").is_null() | (pl.col("model") == "")),
        ("negative_tokens", _nonneg(*TOKEN_COLUMNS, "requests")),
        (
            "cache_exceeds_input",
            (pl.col("cache_read_tokens") + pl.col("cache_write_tokens")) > pl.col("input_tokens"),
        ),
        ("reasoning_exceeds_output", pl.col("reasoning_tokens") > pl.col("output_tokens")),
        *AUDIO_RULES,
    ],
    "provider_usage": [
        ("missing_day", pl.col("day").is_null()),
        ("missing_provider", pl.col("provider").is_null()),
        ("negative_tokens", _nonneg(*TOKEN_COLUMNS, "requests")),
        (
            "cache_exceeds_input",
            (pl.col("cache_read_tokens") + pl.col("cache_write_tokens")) > pl.col("input_tokens"),
        ),
        *AUDIO_RULES,
    ],
    "billing_lines": [
        ("missing_charge_period", pl.col("charge_period_start").is_null()),
        ("missing_provider", pl.col("provider").is_null()),
        ("missing_billed_cost", pl.col("billed_cost").is_null()),
        ("missing_currency", pl.col("billing_currency").is_null()),
    ],
}

# Columns defaulted when a source does not carry them (after casting, before rules).
DEFAULTS: dict[str, dict[str, pl.Expr]] = {
    "usage_events": {
        **{c: pl.lit(0, pl.Int64) for c in (*TOKEN_COLUMNS, *AUDIO_COLUMNS)},
        "requests": pl.lit(1, pl.Int64),
        "is_batch": pl.lit(False),
        "status": pl.lit("ok"),
        "service_tier": pl.lit("default"),
    },
    "provider_usage": {
        **{c: pl.lit(0, pl.Int64) for c in (*TOKEN_COLUMNS, *AUDIO_COLUMNS)},
        "requests": pl.lit(0, pl.Int64),
        "is_batch": pl.lit(False),
        "service_tier": pl.lit("default"),
    },
    "billing_lines": {},
}


def _redact(frame: pl.DataFrame, schema: dict) -> pl.DataFrame:
    """Defense in depth: whatever a reader staged, no key, bearer token or body survives into a table."""
    fixes = []
    for col in frame.columns:
        if col.startswith("_") or col in ("source", "source_file"):
            continue
        dtype = frame.schema[col]
        if dtype == pl.String:
            fixes.append(redact_secrets(pl.col(col)).alias(col))
        elif col == "labels" and isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
            fixes.append(safe_labels(pl.col(col)).alias(col))
        elif dtype == pl.List(pl.String):
            fixes.append(pl.col(col).list.eval(redact_secrets(pl.element())).alias(col))
    return frame.with_columns(fixes) if fixes else frame


def conform(staged: Staged, *, source: str, source_file: str) -> Normalized:
    """Cast a staged chunk into its canonical schema; route every bad row to quarantine with a reason."""
    table, frame = staged.table, staged.frame
    schema = TABLES[table]
    if "_line" not in frame.columns:
        frame = frame.with_row_index("_line", offset=1).with_columns(pl.col("_line").cast(pl.Int64))
    if "_reject" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("_reject"))
    frame = frame.with_columns(pl.lit(source).alias("source"), pl.lit(source_file).alias("source_file"))
    frame = _redact(frame, schema)
    raw_cols = [c for c in frame.columns if not c.startswith("_")]

    cast_exprs, cast_fail = [], []
    for col, dtype in schema.items():
        if col in frame.columns:
            cast_exprs.append(pl.col(col).cast(dtype, strict=False).alias(col))
            cast_fail.append(
                pl.when(pl.col(col).is_not_null() & pl.col(col).cast(dtype, strict=False).is_null()).then(
                    pl.lit(f"bad_{col}")
                )
            )
        else:
            cast_exprs.append(pl.lit(None, dtype).alias(col))
    frame = frame.with_columns(
        pl.coalesce([pl.col("_reject"), *cast_fail]).alias("_reject"),
        pl.struct(raw_cols).struct.json_encode().alias("_raw"),
    ).with_columns(cast_exprs)

    defaults = {c: pl.coalesce(pl.col(c), e).alias(c) for c, e in DEFAULTS[table].items()}
    if defaults:
        frame = frame.with_columns(defaults.values())
    if table == "usage_events" or table == "billing_lines":
        src = "ts" if table == "usage_events" else "charge_period_start"
        frame = frame.with_columns(pl.coalesce(pl.col("day"), pl.col(src).dt.date()).alias("day"))

    reason = pl.coalesce(
        [pl.col("_reject"), *[pl.when(bad.fill_null(False)).then(pl.lit(code)) for code, bad in ROW_RULES[table]]]
    )
    frame = frame.with_columns(reason.alias("_reason"))
    bad = frame.filter(pl.col("_reason").is_not_null())
    good = frame.filter(pl.col("_reason").is_null()).select(list(schema))
    quarantine = bad.select(
        pl.lit(table).alias("table"),
        pl.col("day"),
        pl.lit(source).alias("source"),
        pl.lit(source_file).alias("source_file"),
        pl.col("_line").cast(pl.Int64).alias("line"),
        pl.col("_reason").alias("reason"),
        pl.col("_raw").alias("raw"),
    )
    return Normalized(kept={table: good}, quarantine=quarantine)


def normalize_chunks(
    chunks: Iterable[Staged], *, source: str, source_file: str, counts: FileCounts
) -> Iterator[Normalized]:
    """Conform each chunk of one file and keep its conservation counts up to date."""
    for staged in chunks:
        counts.read += staged.frame.height + staged.skipped
        counts.skipped += staged.skipped
        result = conform(staged, source=source, source_file=source_file)
        counts.kept += sum(f.height for f in result.kept.values())
        counts.quarantined += result.quarantine.height
        yield result
