"""Materialize a range of days in-process through Dagster, recorded in the home's Dagster instance."""


import os
from datetime import date

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from assets.resources import TokenomicsHome
from tokenomics.home import Home

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def instance_for(home: Home) -> dg.DagsterInstance:
    """The persistent instance under <home>/dagster, so CLI runs show up in `make ui`."""
    home.dagster.mkdir(parents=True, exist_ok=True)
    (home.dagster / "dagster.yaml").touch(exist_ok=True)
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home.dagster)))


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

    os.environ.setdefault("TOKENOMICS_HOME", str(home.root))
    job = defs.resolve_job_def("daily_job")
    selection = [dg.AssetKey(a) for a in assets] if assets else None
    tags = {RANGE_START_TAG: str(start), RANGE_END_TAG: str(end)}
    return job.execute_in_process(
        instance=instance or instance_for(home),
        tags=tags,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        asset_selection=selection,
        resources={"tokenomics": TokenomicsHome(root=str(home.root))},
        raise_on_error=raise_on_error,
    )
