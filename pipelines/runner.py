"""Materialize a range of days in-process through Dagster, recorded in the home's Dagster instance."""


from datetime import date

import dagster as dg

from assets.resources import TokenomicsHome
from pipelines.instance import instance_for
from tokenomics.home import Home

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def run_days(
    home: Home,
    start: date,
    end: date,
    *,
    assets: list[str] | None = None,
    instance: dg.DagsterInstance | None = None,
    raise_on_error: bool = False,
    log_level: str = "INFO",
):
    """One single-run backfill of [start, end] (inclusive), the same path a UI backfill takes."""
    from pipelines.definitions import defs

    job = defs.resolve_job_def("daily_job")
    tags = {RANGE_START_TAG: str(start), RANGE_END_TAG: str(end)}
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    resources = {"tokenomics": TokenomicsHome(root=str(home.root))}
    instance = instance or instance_for(home)
    if assets:  # a slice of the graph (e.g. billing restatements): the same assets, resources bound once
        return dg.materialize(
            [*(defs.assets or []), *(defs.asset_checks or [])],
            selection=[dg.AssetKey(a) for a in assets],
            instance=instance,
            tags=tags,
            run_config=run_config,
            resources=resources,
            raise_on_error=raise_on_error,
        )
    return job.execute_in_process(
        instance=instance,
        tags=tags,
        run_config=run_config,
        resources=resources,
        raise_on_error=raise_on_error,
    )
