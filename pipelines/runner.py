"""Materialize a range of days in-process through Dagster, recorded in the home's Dagster instance.

`run_days` can report progress while the run executes: a thread tails the run's event log in the
instance (the same records the UI reads) and hands each step-level event to a callback, so a caller
such as the CLI shows what Dagster is actually doing, not a guess. The run itself stays on the
calling thread (Ctrl-C and Dagster's signal handling work as without progress).
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import dagster as dg
from dagster import DagsterEventType

from assets.resources import TokenomicsHome
from pipelines.instance import instance_for
from tokenomics.home import Home

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
SLICE_JOB = "__ephemeral_asset_job__"  # the name dg.materialize gives its job, so UI listings stay the same

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class RunProgress:
    """One step-level event of a run, as read back from the instance's event log.

    kind: 'planned' (an asset the run will materialize, with its days), 'step_start', 'materialized'
    (one asset and day done), 'check' (an asset check evaluated), 'step_success', 'step_failure'
    (message: the error the step's code raised, not Dagster's wrapper), 'step_skipped' (not run:
    upstream failed), 'warning' (a log line at
    WARNING or above, whatever level the console logger prints).
    """

    kind: str
    step: str | None
    asset: str | None = None
    partitions: tuple[str, ...] = ()
    passed: bool | None = None
    message: str = ""
    timestamp: float = 0.0


Progress = Callable[[RunProgress], None]

_SKIP_NOTE = "Dependencies for step"  # how Dagster's in-process executor logs a step it does not run

_WATCHED = {
    DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    DagsterEventType.STEP_START,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
}


def _root_cause(error) -> str:
    """The error the step's code raised (the reader's message), not Dagster's 'Error occurred while executing op'."""
    while error.message.startswith("dagster.") and getattr(error, "cause", None) is not None:
        error = error.cause
    text = (error.message or "").strip()
    return re.sub(r"^[\w.]+(Error|Exception|Failure): ", "", text, count=1) if error.cls_name else text


def _progress_of(entry) -> RunProgress | None:
    event = entry.dagster_event
    if event is None:
        if entry.level < logging.WARNING or not entry.user_message:
            return None
        kind = "step_skipped" if entry.user_message.startswith(_SKIP_NOTE) else "warning"
        return RunProgress(kind, step=entry.step_key, message=entry.user_message, timestamp=entry.timestamp)
    kind = event.event_type
    if kind not in _WATCHED:
        return None
    asset = event.asset_key.to_user_string() if event.asset_key else None
    common = {"step": event.step_key, "asset": asset, "timestamp": entry.timestamp}
    if kind == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
        data = event.event_specific_data
        subset = getattr(data, "partitions_subset", None)
        keys = tuple(subset.get_partition_keys()) if subset is not None else ()
        if not keys and getattr(data, "partition", None):
            keys = (data.partition,)
        return RunProgress("planned", partitions=keys, **common)
    if kind == DagsterEventType.ASSET_MATERIALIZATION:
        partition = event.partition
        return RunProgress("materialized", partitions=(partition,) if partition else (), **common)
    if kind == DagsterEventType.ASSET_CHECK_EVALUATION:
        data = event.event_specific_data
        return RunProgress(
            "check", passed=data.passed, message=data.check_name, **{**common, "asset": data.asset_key.to_user_string()}
        )
    if kind == DagsterEventType.STEP_FAILURE:
        error = getattr(event.event_specific_data, "error", None)
        message = _root_cause(error) if error is not None else (event.message or "")
        return RunProgress("step_failure", message=message, **common)
    return RunProgress(
        {
            DagsterEventType.STEP_START: "step_start",
            DagsterEventType.STEP_SUCCESS: "step_success",
            DagsterEventType.STEP_SKIPPED: "step_skipped",
        }[kind],
        **common,
    )


class _EventTail(threading.Thread):
    """Reads a run's new event records from the instance every POLL_SECONDS and passes them on."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, progress: Progress):
        super().__init__(name=f"progress-{run_id[:8]}", daemon=True)
        self.instance, self.run_id, self.progress = instance, run_id, progress
        self.cursor: str | None = None
        self.finished = threading.Event()

    def drain(self) -> None:
        while True:
            page = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=1000)
            self.cursor = page.cursor
            for record in page.records:
                update = _progress_of(record.event_log_entry)
                if update is not None:
                    self.progress(update)
            if not page.has_more:
                return

    def run(self) -> None:
        while not self.finished.wait(POLL_SECONDS):
            self.drain()

    def stop(self) -> None:
        """After the run: stop polling and hand over whatever the last poll had not seen yet."""
        self.finished.set()
        self.join()
        self.drain()


def run_days(
    home: Home,
    start: date,
    end: date,
    *,
    assets: list[str] | None = None,
    instance: dg.DagsterInstance | None = None,
    raise_on_error: bool = False,
    log_level: str = "INFO",
    progress: Progress | None = None,
):
    """One single-run backfill of [start, end] (inclusive), the same path a UI backfill takes.

    `assets` limits the run to a slice of the graph (e.g. billing restatements). `progress`, when
    given, receives the run's step events (RunProgress) while it executes, from another thread.
    """
    from pipelines.definitions import defs

    tags = {RANGE_START_TAG: str(start), RANGE_END_TAG: str(end)}
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    resources = {"tokenomics": TokenomicsHome(root=str(home.root))}
    instance = instance or instance_for(home)
    if assets:  # a slice of the graph: the same assets, resources bound once (what dg.materialize does)
        sliced = dg.Definitions(
            assets=[*(defs.assets or []), *(defs.asset_checks or [])],
            jobs=[dg.define_asset_job(SLICE_JOB, selection=[dg.AssetKey(a) for a in assets])],
            resources=resources,
        )
        job, resources = sliced.resolve_job_def(SLICE_JOB), None
    else:
        job = defs.resolve_job_def("daily_job")
    run_id = str(uuid.uuid4())  # known before the run starts, so its events can be tailed from the first
    tail = _EventTail(instance, run_id, progress) if progress is not None else None
    if tail is not None:
        tail.start()
    try:
        return job.execute_in_process(
            instance=instance,
            tags=tags,
            run_config=run_config,
            resources=resources,
            raise_on_error=raise_on_error,
            run_id=run_id,
        )
    finally:
        if tail is not None:
            tail.stop()
