"""The one Definitions object of the code location (workspace.yaml points here)."""


import dagster as dg

from assets import checks, lake, marts, publish
from assets.resources import TokenomicsHome
from pipelines.jobs import daily_job
from pipelines.schedules import nightly

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([lake, marts, publish]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[daily_job],
    schedules=[nightly],
    resources={"tokenomics": TokenomicsHome()},
)
