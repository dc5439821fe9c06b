"""Text to values, the one way every reader does it: nulls, timestamps, booleans, counts, money.

Readers read every field as text (CSV cells, JSON values, Parquet strings) and decide types here, at
their edge. One vocabulary per kind of value, so the same spelling means the same thing whichever
reader, format or gateway it comes from. Everything is a Polars expression over whole columns: a
value that does not parse is null, and `unparsed` turns "present but null after parsing" into the
quarantine reason.
"""

from __future__ import annotations

import polars as pl

from tokenomics.schema import MONEY, UTC_TS

NULL_SPELLINGS = ("", "NULL", "null", "None", "NaN", "N/A")
"""Absent values as exporters write them (Python `None`, SQL `NULL`, pandas `NaN`, spreadsheet `N/A`)."""

TRUE_SPELLINGS = ("true", "t", "1", "yes", "y")
FALSE_SPELLINGS = ("false", "f", "0", "no", "n")
"""Booleans, compared lowercased: JSON `true`, CSV `TRUE`, Python `True`, `1`/`0`, `yes`/`no`."""

_NAIVE = "%Y-%m-%dT%H:%M:%S%.f"
_ISO = "%Y-%m-%dT%H:%M:%S%.f%#z"
_US_SHORT_YEAR = r"^(\d{1,2}/\d{1,2}/)(\d{2})(\s|$)"
_US_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p")
_EPOCH_SECONDS = r"^(\d{9,11})(?:\.(\d{1,9}))?$"


def text_or_null(text: pl.Expr) -> pl.Expr:
    """Trimmed text, null for every spelling of an absent value (`NULL_SPELLINGS`)."""
    cleaned = text.cast(pl.String).str.strip_chars()
    return pl.when(cleaned.is_in(NULL_SPELLINGS)).then(pl.lit(None, pl.String)).otherwise(cleaned)


def unparsed(text: pl.Expr, parsed: pl.Expr, reason: str) -> pl.Expr:
    """`reason` where a value is present in `text` but `parsed` is null (it did not parse), else null."""
    return pl.when(text_or_null(text).is_not_null() & parsed.is_null()).then(pl.lit(reason))


# ---------------------------------------------------------------- timestamps


def parse_timestamp(text: pl.Expr, *, us_dates: bool = False) -> pl.Expr:
    """A UTC timestamp from any spelling the sources use; null when none fits.

    ISO 8601 with `T` or a space, with `Z`, ` UTC`, an offset or nothing (naive means UTC: LiteLLM's
    `2025-08-31 10:00:00.123456`, the FOCUS sample `2024-09-18 22:00:00`), up to 9 fractional digits
    (Azure writes 7); a date alone (`2025-08-31`); Unix epoch seconds with an optional fraction
    (LiteLLM's StandardLoggingPayload, OpenAI report buckets).
    `us_dates`: also US dates, always month first (Azure `08/31/2025`, FOCUS spec `5/1/25` = 1 May
    2025, `8/31/2025 12:00:00 AM`). Only bills write them; in a gateway log `01/03/2025` is ambiguous
    and stays unparsed. A rarer spelling is only parsed where a cheap test says the value is shaped
    like it, so a column of ordinary timestamps pays two parses.
    """
    s = text.cast(pl.String).str.strip_chars()
    t = s.str.replace(" ", "T", literal=True, n=1)
    parsed = [
        t.str.to_datetime(_NAIVE, strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        t.str.to_datetime(_ISO, strict=False, time_unit="us", time_zone="UTC"),
    ]
    # Rarer spellings: each parse sees only the values shaped like it (null elsewhere costs nothing).
    utc_suffix = pl.when(s.str.ends_with("UTC") | s.str.ends_with(" Z")).then(s).str.replace(r"\s*(?:UTC|Z)$", "Z")
    parsed.append(
        utc_suffix.str.replace(" ", "T", literal=True, n=1).str.to_datetime(
            _ISO, strict=False, time_unit="us", time_zone="UTC"
        )
    )
    naive = [pl.when(s.str.len_chars() == 10).then(s).str.to_datetime("%Y-%m-%d", strict=False, time_unit="us")]
    epoch = s.str.extract_groups(_EPOCH_SECONDS)
    fraction = epoch.struct.field("2").fill_null("0").str.pad_end(6, "0").str.slice(0, 6)
    micros = epoch.struct.field("1").cast(pl.Int64, strict=False) * 1_000_000 + fraction.cast(pl.Int64, strict=False)
    naive.append(micros.cast(pl.Datetime("us")))
    if us_dates:
        us = pl.when(s.str.contains("/", literal=True)).then(s).str.replace(_US_SHORT_YEAR, "${1}20${2}${3}")
        naive += [us.str.to_datetime(f, strict=False, time_unit="us") for f in _US_FORMATS]
    return pl.coalesce(*parsed, *[n.dt.replace_time_zone("UTC") for n in naive]).cast(UTC_TS)


# ---------------------------------------------------------------- booleans


def parse_bool(text: pl.Expr) -> pl.Expr:
    """Boolean from text (`TRUE_SPELLINGS` / `FALSE_SPELLINGS`, any case); null when absent or neither."""
    lower = text_or_null(text).str.to_lowercase()
    return (
        pl.when(lower.is_in(TRUE_SPELLINGS))
        .then(pl.lit(True))
        .when(lower.is_in(FALSE_SPELLINGS))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )


# ---------------------------------------------------------------- counts


def count_text(text: pl.Expr) -> pl.Expr:
    """An integer count as text, float-formatted counts (`59200.0`) made whole; anything else stays as
    it is, for normalize's strict cast to quarantine as `bad_<column>`."""
    return text_or_null(text).str.replace(r"^(-?\d+)\.0*$", "${1}")


def parse_count(text: pl.Expr) -> pl.Expr:
    """An integer count from text: "120", "120.0" and "1.2e2" all give 120; anything else null."""
    cleaned = text.cast(pl.String).str.strip_chars()  # no null spelling parses as a number
    as_int = cleaned.str.replace(r"\.0*$", "").cast(pl.Int64, strict=False)
    as_float = cleaned.cast(pl.Float64, strict=False)
    whole_float = pl.when(as_float == as_float.round(0)).then(as_float.cast(pl.Int64, strict=False))
    return pl.coalesce(as_int, whole_float)


def is_bad_count(text: pl.Expr) -> pl.Expr:
    """True where a count is present but is not an integer (e.g. "12.5", "many")."""
    return unparsed(text, parse_count(text), "bad").is_not_null()


def with_counts(frame: pl.DataFrame, texts: dict[str, pl.Expr]) -> pl.DataFrame:
    """`frame` plus one Int64 column per named count text, and `_bad_count` where any text is not a count.

    Each text is parsed once into a column, so the expressions that combine counts stay cheap.
    """
    named = frame.with_columns(**{f"_text_{name}": text_or_null(text) for name, text in texts.items()})
    counted = named.with_columns(**{name: parse_count(pl.col(f"_text_{name}")) for name in texts})
    bad = pl.any_horizontal([pl.col(f"_text_{n}").is_not_null() & pl.col(n).is_null() for n in texts])
    return counted.with_columns(bad.fill_null(False).alias("_bad_count")).drop([f"_text_{name}" for name in texts])


# ---------------------------------------------------------------- money


def money_text(text: pl.Expr) -> pl.Expr:
    """Money as exact decimal text, digit for digit (surrounding quotes and blanks dropped), for
    normalize's strict cast: a money value never passes through a binary float."""
    return text_or_null(text.cast(pl.String).str.strip_chars().str.strip_chars('"'))


def parse_money(text: pl.Expr, divisor: int = 1) -> pl.Expr:
    """Exact Decimal money from text counted in 1/divisor dollars (cents: 100); null when not a number."""
    amount = money_text(text).cast(MONEY, strict=False)
    return amount if divisor == 1 else amount / divisor
