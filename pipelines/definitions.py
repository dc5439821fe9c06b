"""The one Definitions object of the code location (workspace.yaml points here)."""

import dagster as dg

from assets import checks, connectors, finance, insights, lake, marts, publish, quality, report
from assets.resources import TokenomicsHome
from assets.tables import with_column_schemas
from pipelines.freshness import stale_table_alerts, with_freshness
from pipelines.jobs import daily_job
from pipelines.schedules import nightly
from pipelines.sensors import pipeline_failure_alerts

defs = dg.Definitions(
    assets=with_column_schemas(
        with_freshness(
            dg.load_assets_from_modules([connectors, lake, marts, finance, quality, insights, publish, report])
        )
    ),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[daily_job],
    schedules=[nightly],
    sensors=[connectors.bucket_exports, pipeline_failure_alerts, stale_table_alerts],
    resources={"tokenomics": TokenomicsHome()},
    executor=dg.in_process_executor,
)
"""Runs execute their steps in one process: a step is seconds of DuckDB/Polars work, and a process per
step (Dagster's default) would spend more time importing than working. Days run in parallel as
separate runs instead (TOKENOMICS_BACKFILL=per_day), each its own process or pod."""
