"""Atomic, idempotent writes of one day's partition in the Parquet lake."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

import polars as pl


def replace_partition(folder: Path, frames: Iterable[pl.DataFrame] | pl.DataFrame, schema=None) -> int:
    """Write `frames` as folder/part-0.parquet, replacing whatever the folder held, atomically.

    The new partition is built in a sibling temp folder and swapped in with renames, so a killed run
    leaves the previous good partition and a rerun converges to the same files.
    Returns the number of rows written. An empty input still writes an empty file with the schema,
    so readers see "this day was processed and had nothing" rather than "missing".
    """
    if isinstance(frames, pl.DataFrame):
        frames = [frames]
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        parts = [f for f in frames if f is not None]
        frame = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame(schema=schema or {})
        if schema is not None:
            frame = frame.select([pl.col(c).cast(t) for c, t in schema.items()])
        if frame.width:  # a frame without columns (nothing computed, no schema known) leaves the day empty
            frame.write_parquet(tmp / "part-0.parquet", compression="zstd", statistics=True)
        swap_in(tmp, folder)
        return frame.height
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def swap_in(tmp: Path, folder: Path) -> None:
    """Replace `folder` by `tmp` with two renames; the old folder is removed afterwards."""
    old = folder.parent / f".old-{folder.name}-{uuid.uuid4().hex[:8]}"
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def read_partition(folder: Path, schema=None) -> pl.DataFrame:
    """All rows of one partition folder (empty frame with `schema` when absent)."""
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    if not files:
        return pl.DataFrame(schema=schema or {})
    return pl.read_parquet(files)
