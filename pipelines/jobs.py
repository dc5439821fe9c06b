"""Jobs: the whole daily graph, and the billing slice re-run for restated days."""


import dagster as dg

daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all(),
    description="Every daily asset for the selected day(s): lake, checks, marts, warehouse.",
)

BILLING_RESTATEMENT_ASSETS = [
    dg.AssetKey(name)
    for name in (
        "billing_lines",
        "provider_usage",
        "billing_daily",
        "reconciliation_daily",
        "allocation_daily",
        "chargeback_monthly",
        "focus_export",
        "budget_status",
        "alerts",
        "warehouse",
    )
]
"""What a restated billing day must rebuild: the billing lake tables and everything fed by them."""
