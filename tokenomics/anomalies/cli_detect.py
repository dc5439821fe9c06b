"""`tokenomics detect`: run the detector on any daily series table (CSV or Parquet) and write the result."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tokenomics.anomalies.detector import DetectorParams, detect

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class DetectInputError(ValueError):
    """A problem with the user's input or output file, as one line that says what to fix."""


def _format(path: Path, role: str) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DetectInputError(f"detect: {role} file {path.name} must end in .csv or .parquet")
    return fmt


def read_series(path: Path) -> pl.DataFrame:
    """day, series, value from a CSV or Parquet file; a clear error naming what is wrong."""
    fmt = _format(path, "input")
    if not path.exists():
        raise DetectInputError(f"detect: input file {path} does not exist")
    frame = (
        pl.read_csv(path, try_parse_dates=False, infer_schema_length=10_000, schema_overrides={"series": pl.String})
        if fmt == "csv"
        else pl.read_parquet(path)
    )
    missing = [c for c in ("day", "series", "value") if c not in frame.columns]
    if missing:
        raise DetectInputError(
            f"detect: {path.name} lacks column(s) {', '.join(missing)} (needs day, series, value; has {', '.join(frame.columns)})"
        )
    cols = [pl.col("day"), pl.col("series").cast(pl.String), pl.col("value")]
    if "volume" in frame.columns:
        cols.append(pl.col("volume"))
    frame = frame.select(cols)
    if frame.schema["day"] != pl.Date:
        parsed = frame["day"].cast(pl.String).str.to_date("%Y-%m-%d", strict=False)
        bad = frame.filter(parsed.is_null() & frame["day"].is_not_null())
        if bad.height:
            raise DetectInputError(f"detect: {path.name}: cannot parse day {bad['day'][0]!r} (expected YYYY-MM-DD)")
        frame = frame.with_columns(parsed.alias("day"))
    if not (frame.schema["value"].is_numeric()):
        parsed = frame["value"].cast(pl.Float64, strict=False)
        bad = frame.filter(parsed.is_null() & frame["value"].is_not_null())
        if bad.height:
            raise DetectInputError(
                f"detect: {path.name}: value {bad['value'][0]!r} for series {bad['series'][0]!r} is not a number"
            )
        frame = frame.with_columns(parsed.alias("value"))
    return frame


def run_detect(input_path: Path, out_path: Path, params: DetectorParams | None = None) -> int:
    """Read `input_path`, detect, write `out_path` (CSV or Parquet by extension); rows written."""
    input_path, out_path = Path(input_path), Path(out_path)
    out_fmt = _format(out_path, "output")
    result = detect(read_series(input_path), params)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    if out_fmt == "csv":
        result.write_csv(tmp)
    else:
        result.write_parquet(tmp)
    tmp.replace(out_path)  # atomic: a killed run never leaves half a file
    return result.height
