"""One writer at a time for the steps that rebuild shared, month-level or whole-lake outputs."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive OS lock on `lock_file` for the block; other processes wait their turn.

    Concurrent day runs on one machine (or on machines sharing the home's volume) each rebuild
    chargeback months, budgets, the alert ledger and the warehouse from what the lake holds; done one at
    a time, the last writer has seen every day that finished before it, so nothing is lost. Across
    machines without a shared volume, Dagster's concurrency pool of the same name does this job.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
