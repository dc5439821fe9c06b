"""The one partitioning of the project (UTC days), its backfill modes, and the wrapper every daily asset uses."""

import functools
import os

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
    read other days declare it (`history` below), so Dagster's backfill orders them after those days.
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


def history(asset, days: int) -> dg.AssetDep:
    """A dependency on the `days` days before each partition too (a detector window, month-to-date)."""
    return dg.AssetDep(asset, partition_mapping=dg.TimeWindowPartitionMapping(
        start_offset=-days, end_offset=0, allow_nonexistent_upstream_partitions=True
    ))


def daily_asset(*, serialized: bool = False, **kwargs):
    """@asset for a UTC-day partitioned asset: the project's partitioning, backfill mode and owner.

    The body runs inside `TokenomicsHome.synced` (an object-storage lake is pulled before and pushed
    after). `serialized=True` marks a step that rewrites something other days share (a month, the
    alert ledger, the warehouse): it takes the home's lock and the Dagster pool, so concurrent day runs
    rebuild it one at a time, each from everything finished before it.
    """
    if serialized:
        kwargs.setdefault("pool", SHARED_OUTPUTS_POOL)

    def decorate(compute):
        @functools.wraps(compute)
        def run_synced(context, tokenomics):
            if not serialized:
                with tokenomics.synced(context, context.partition_keys):
                    return compute(context, tokenomics)
            with tokenomics.serialized(SHARED_OUTPUTS_POOL), tokenomics.synced(context, context.partition_keys):
                return compute(context, tokenomics)

        return dg.asset(
            partitions_def=daily_partitions, backfill_policy=backfill_policy(), owners=OWNERS, **kwargs
        )(run_synced)

    return decorate
