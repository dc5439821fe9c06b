"""Jobs: the whole daily graph, and the billing slice re-run for restated days."""


import dagster as dg

from assets.lake import billing_lines, provider_usage

daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all(),
    description="Every daily asset for the selected day(s): lake, checks, marts, warehouse.",
)

billing_restatement = dg.AssetSelection.assets(billing_lines, provider_usage).downstream()
"""What a restated billing day must rebuild: the billing lake tables and everything fed by them,
read from the asset graph so a new downstream asset is rebuilt without editing a list here."""


def billing_restatement_keys(asset_graph) -> list[dg.AssetKey]:
    """The restatement selection resolved on the code location's asset graph, in a stable order."""
    return sorted(billing_restatement.resolve(asset_graph), key=lambda k: k.to_user_string())
