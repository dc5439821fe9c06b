"""The one partitioning of the project: UTC calendar days."""


import os

import dagster as dg

PARTITION_START_ENV = "TOKENOMICS_PARTITION_START"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(PARTITION_START_ENV, "2025-01-01"), timezone="UTC", end_offset=0
)
"""Daily partitions in UTC; the newest partition is yesterday (a day is processed once it is complete)."""

single_run_backfill = dg.BackfillPolicy.single_run()
"""A backfill of any range is one run: assets loop over context.partition_keys (see README)."""


OWNERS = ["team:data-platform"]


def daily_asset(**kwargs):
    """@asset for a UTC-day partitioned asset: the project's one partitioning, backfill policy and owner."""
    return dg.asset(partitions_def=daily_partitions, backfill_policy=single_run_backfill, owners=OWNERS, **kwargs)
