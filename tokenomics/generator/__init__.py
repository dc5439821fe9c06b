"""Synthetic company generator: gateway logs, OTel traces, provider bills and the truth they must add up to.

`generate(home, start, days, events_per_day, seed)` writes landing files in every supported format, a
tokenomics.yaml whose attribution rules fit the logs, and truth/ tables. Same seed, same bytes.
"""

from __future__ import annotations

import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import numpy as np
import polars as pl

from tokenomics.generator.anomalies import anomalies_frame, effects, place
from tokenomics.generator.billing import BILLING_SOURCES, restated_day, write_bills
from tokenomics.generator.config_file import write_config
from tokenomics.generator.litellm_files import write_litellm_day
from tokenomics.generator.otel_files import write_otel_day
from tokenomics.generator.traffic import simulate_day, stream_table
from tokenomics.generator.truth import USAGE_KEYS, stream_cells, usage_rows
from tokenomics.generator.volume import daily_counts
from tokenomics.home import Home

GATEWAY_SOURCES = ("litellm", "otel")
SLICE_REQUESTS = 250_000
"""A day with more requests than this is simulated and written in slices of about this many, each from
its own random stream, so memory follows the slice, not the day (a whole 1M-request day peaked at
2.6 GiB, 10M would need ~26 GiB). Smaller days are one slice: the same bytes as before slicing."""


def _slices(day_counts: np.ndarray) -> list[np.ndarray]:
    """Per-stream request counts of each slice of one day; they add up to `day_counts`."""
    k = max(1, -(-int(day_counts.sum()) // SLICE_REQUESTS))
    if k == 1:
        return [day_counts]
    base, extra = np.divmod(day_counts, k)
    return [base + (extra > i) for i in range(k)]


def _fresh(folder: Path) -> Path:
    """Empty a day folder this generator owns, so a re-run never leaves files of an older run behind."""
    if folder.exists():
        shutil.rmtree(folder)
    return folder


def _resum(parts: list[pl.DataFrame], keys: tuple[str, ...]) -> pl.DataFrame:
    """One day's truth rows from its slices' rows: counts add up per key (one slice: as is)."""
    if len(parts) == 1:
        return parts[0]
    frame = pl.concat(parts)
    sums = [pl.col(c).sum().cast(frame.schema[c]) for c in frame.columns if c not in keys]
    return frame.group_by(*keys).agg(sums).sort(*keys)


def generate(home: Path, start: date, days: int, events_per_day: int, seed: int) -> dict:
    """Write `days` days of a synthetic company's traffic from `start` into `home`; return a summary."""
    if days < 1 or events_per_day < 1:
        raise ValueError("days and events_per_day must be at least 1")
    t0 = time.perf_counter()
    h = Home(Path(home))
    h.root.mkdir(parents=True, exist_ok=True)
    placed = place(days)
    fx = effects(days, placed)
    counts = daily_counts(start, days, events_per_day, fx, np.random.default_rng([seed, 0]))
    streams = stream_table()

    files: dict[str, int] = {}
    usage, cells = [], []
    gateway_events = bypass_requests = 0
    for d in range(days):
        day = start + timedelta(days=d)
        for source in BILLING_SOURCES:
            _fresh(h.landing_day(source, day))
        folders = {source: _fresh(h.landing_day(source, day)) for source in GATEWAY_SOURCES}
        written: dict[str, set[Path]] = {source: set() for source in GATEWAY_SOURCES}
        slices = _slices(counts[:, d])
        day_usage, day_cells, first, sessions = [], [], 0, 0
        for k, slice_counts in enumerate(slices):
            rng = np.random.default_rng([seed, 1, d] if len(slices) == 1 else [seed, 1, d, k])
            events = simulate_day(day, d, slice_counts, fx, rng, first).join(streams, on="stream", how="left")
            if sessions:  # conversations of different slices are different conversations
                events = events.with_columns(
                    pl.when(pl.col("session") >= 0).then(pl.col("session") + sessions).otherwise(pl.col("session"))
                )
            written["litellm"].update(write_litellm_day(events, day, folders["litellm"], len(written["litellm"])))
            written["otel"].update(write_otel_day(events, day, folders["otel"], rng, len(written["otel"])))
            day_usage.append(usage_rows(events, day))
            day_cells.append(stream_cells(events, day))
            seen = int(events["via_gateway"].sum())
            gateway_events += seen
            bypass_requests += events.height - seen
            first += events.height
            sessions = max(sessions, int(cast(int, events["session"].max() or 0)) + 1)
            del events
        for source, paths in written.items():
            files[source] = files.get(source, 0) + len(paths)
        usage.append(_resum(day_usage, USAGE_KEYS))
        cells.append(_resum(day_cells, ("day", "stream", "is_batch")))

    h.truth.mkdir(parents=True, exist_ok=True)
    truth_usage = pl.concat(usage)
    truth_usage.write_parquet(h.truth / "usage_daily.parquet")
    anomalies_frame(placed, start).write_parquet(h.truth / "anomalies.parquet")
    write_config(h.config_file)
    files.update(write_bills(h.landing, h.truth, pl.concat(cells), streams, start, days, seed))
    return {
        "home": str(h.root),
        "start": str(start),
        "days": days,
        "gateway_events": gateway_events,
        "bypass_requests": bypass_requests,
        "litellm_files": files.get("litellm", 0),
        "otel_files": files.get("otel", 0),
        "anomalies": len(placed),
        "restated_day": str(restated_day(start, days)),
        "seconds": round(time.perf_counter() - t0, 2),
        "files": files,
    }
