"""The published BI warehouse: rebuilt from the marts and swapped in atomically."""

import dagster as dg

from assets.finance import budget_status, chargeback_monthly, reconciliation_daily, savings_opportunities, self_host_tco
from assets.insights import alerts, anomalies, incidents
from assets.marts import MARTS, billing_daily, usage_daily
from assets.partitions import daily_asset
from assets.quality import data_quality
from assets.resources import TokenomicsHome
from tokenomics.warehouse import publish


@daily_asset(
    deps=[
        usage_daily,
        billing_daily,
        reconciliation_daily,
        chargeback_monthly,
        budget_status,
        savings_opportunities,
        self_host_tco,
        anomalies,
        incidents,
        alerts,
        data_quality,
    ],
    serialized=True,
    group_name="publish",
    kinds={"duckdb"},
    description=(
        "warehouse.duckdb for BI tools: every published table rebuilt from lake/marts and swapped in "
        "with os.replace, so a BI tool holding the file open is never blocked nor sees a half-written file. "
        "Connect read-only."
    ),
)
def warehouse(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home = tokenomics.home
    counts = publish(home, MARTS)
    context.log.info(f"published {home.warehouse}: {counts}")
    lake = tokenomics.object_lake()
    if lake is not None:  # built locally, uploaded as one object: readers get the old file or the new one
        lake.upload(home.warehouse, home.warehouse.name)
        context.log.info(f"uploaded {lake.url}/{home.warehouse.name}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(home.warehouse)),
            "tables": dg.MetadataValue.json(counts),
            "dagster/row_count": sum(counts.values()),
        }
    )
