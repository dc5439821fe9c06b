"""The one partitioning of the project (UTC days), its backfill modes, and the wrapper every daily asset uses."""

import calendar
import contextlib
import functools
import os
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

PARTITION_START_ENV = "TOKENOMICS_PARTITION_START"
BACKFILL_MODE_ENV = "TOKENOMICS_BACKFILL"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(PARTITION_START_ENV, "2025-01-01"), timezone="UTC", end_offset=0
)
"""Daily partitions in UTC; the newest partition is yesterday (a day is processed once it is complete)."""


def backfill_policy() -> dg.BackfillPolicy:
    """`single_run` (default): a backfill of any range is one run, assets loop over context.partition_keys.

    `per_day` ($TOKENOMICS_BACKFILL=per_day): one run per day, so the instance's run coordinator runs
    several days at once (and a Kubernetes or Docker run launcher spreads them over machines). Steps that
    read earlier days recompute the later days present (`Refresh` below), so any order converges.
    """
    mode = os.environ.get(BACKFILL_MODE_ENV, "single_run")
    if mode == "per_day":
        return dg.BackfillPolicy.multi_run(max_partitions_per_run=1)
    if mode != "single_run":
        raise ValueError(f"{BACKFILL_MODE_ENV}={mode!r}: expected single_run or per_day")
    return dg.BackfillPolicy.single_run()


OWNERS = ["team:data-platform"]

SHARED_OUTPUTS_POOL = "tokenomics_shared_outputs"
"""Dagster concurrency pool (limit 1) of the steps that rebuild shared outputs; see `serialized` below."""


@dataclass(frozen=True)
class Refresh:
    """Later days whose result reads this step's days (a detector's window, month-to-date billing).

    A per-day backfill runs days in any order, several at once. A step that reads earlier days
    therefore also recomputes the later days already present in its input (up to `days_after` later,
    or to the end of the month): run one at a time (`serialized`), the last run to touch a day has seen
    every earlier day, so the result equals one single-run backfill. Single-run mode computes the
    run's days only, in order, as before.
    """

    reads: str
    mart: bool = True
    days_after: int = 0
    within_month: bool = False

    def days(self, home, days: list[date]) -> list[date]:
        if os.environ.get(BACKFILL_MODE_ENV, "single_run") != "per_day":
            return days
        first = min(days)
        if self.within_month:
            last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        else:
            last = first + timedelta(days=self.days_after)
        folder = home.mart_day if self.mart else home.table_day
        later = [first + timedelta(days=i) for i in range(1, (last - first).days + 1)]
        present = [d for d in later if any(folder(self.reads, d).glob("*.parquet"))]
        return sorted(set(days) | set(present))


_step_days: ContextVar[list[date] | None] = ContextVar("tokenomics_step_days", default=None)


def step_days(context) -> list[date]:
    """The days this step computes: its partitions, plus the later days a `Refresh` rule adds."""
    days = _step_days.get()
    return days if days is not None else [date.fromisoformat(k) for k in context.partition_keys]


def _synced(serialized: bool, refresh: Refresh | None, decorator):
    """Wrap an asset body in the lock, the `Refresh` days and the object-lake sync, then apply `decorator`."""

    def decorate(compute):
        @functools.wraps(compute)
        def run_synced(context, tokenomics):
            days = [date.fromisoformat(k) for k in context.partition_keys]
            with contextlib.ExitStack() as stack:
                if serialized or refresh is not None:
                    stack.enter_context(tokenomics.serialized(SHARED_OUTPUTS_POOL))
                if refresh is not None:
                    tokenomics.pull(context, context.partition_keys)  # the input, to see which later days exist
                    days = refresh.days(tokenomics.home, days)
                    if len(days) > len(context.partition_keys):
                        context.log.info(
                            f"per-day mode: also recomputing {len(days) - len(context.partition_keys)} later day(s) that read these"
                        )
                stack.enter_context(tokenomics.synced(context, [str(d) for d in days]))
                token = _step_days.set(days)
                try:
                    return compute(context, tokenomics)
                finally:
                    _step_days.reset(token)

        return decorator(run_synced)

    return decorate


def daily_asset(*, serialized: bool = False, refresh: Refresh | None = None, **kwargs):
    """@asset for a UTC-day partitioned asset: the project's partitioning, backfill mode and owner.

    The body runs inside `TokenomicsHome.synced` (an object-storage lake is pulled before and pushed
    after). `serialized=True` marks a step that rewrites something other days share (a month, the
    alert ledger, the warehouse) or reads other days: it takes the home's lock and the Dagster pool, so
    concurrent day runs rebuild it one at a time, each from everything finished before it. `refresh`
    (see `Refresh`) makes a per-day run also recompute the later days that read its days.
    """
    if serialized or refresh is not None:
        kwargs.setdefault("pool", SHARED_OUTPUTS_POOL)
    return _synced(
        serialized,
        refresh,
        dg.asset(partitions_def=daily_partitions, backfill_policy=backfill_policy(), owners=OWNERS, **kwargs),
    )


def daily_multi_asset(*, specs: list[dg.AssetSpec], serialized: bool = False, refresh: Refresh | None = None, **kwargs):
    """@multi_asset twin of `daily_asset`, for one step that writes several tables: same partitions,
    backfill mode, lock and sync; each spec gets the project's owner unless it names its own. The body
    returns one MaterializeResult per spec (a tuple: a generator would outlive the lock)."""
    if serialized or refresh is not None:
        kwargs.setdefault("pool", SHARED_OUTPUTS_POOL)
    specs = [s if s.owners else s.replace_attributes(owners=OWNERS) for s in specs]
    return _synced(
        serialized,
        refresh,
        dg.multi_asset(specs=specs, partitions_def=daily_partitions, backfill_policy=backfill_policy(), **kwargs),
    )
