"""Jobs: the whole daily graph, and the billing slice re-run for restated days."""

import dagster as dg

from assets.lake import billing_lines, provider_usage, usage_events

daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all(),
    description="Every daily asset for the selected day(s): connectors, lake, checks, marts, warehouse.",
)

_billing = dg.AssetSelection.assets(billing_lines, provider_usage)
_gateway = dg.AssetSelection.assets(usage_events).upstream()

billing_restatement = (_billing.upstream(depth=1) - _gateway) | _billing.downstream()
"""What a restated billing day must rebuild, read from the asset graph so a new asset is picked up
without editing a list here: the connectors that fetch billing (admin APIs, export buckets: the
provider restates at the source, so the day is fetched again), the billing lake tables, and
everything fed by them. Never the gateway side (landing_litellm, usage_events): request logs are not
restated, and re-pulling them would rewrite partitions users already read."""


def billing_restatement_keys(asset_graph) -> list[dg.AssetKey]:
    """The restatement selection resolved on the code location's asset graph, in a stable order."""
    return sorted(billing_restatement.resolve(asset_graph), key=lambda k: k.to_user_string())
