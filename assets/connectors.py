"""Connector assets: one UTC day fetched from where the data lives into landing, upstream of the lake.

Each asset is a day partition of one connector (`connectors:` in tokenomics.yaml). A connector that
is not configured materializes as `configured: false` and touches nothing, so the graph is the same
for every deployment and the nightly schedule needs no edit: it fetches whatever is configured, then
the lake reads landing as before. A fetch that fails fails its step (one line, no secret) and lands
nothing, so the lake never reads half a report as if it were the whole day.
"""

from datetime import date

import dagster as dg

from assets.partitions import daily_asset
from assets.resources import TokenomicsHome
from tokenomics.config import ConfigError
from tokenomics.connectors import ConnectorError, configured_sources, pull


def _connector_asset(connector: str, description: str):
    @daily_asset(name=f"landing_{connector}", group_name="connectors", kinds={"python"}, description=description)
    def _asset(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
        config = tokenomics.config()
        sources = configured_sources(config, connector)
        if not sources:
            context.log.info(f"connector {connector}: not configured (connectors.{connector} in tokenomics.yaml)")
            return dg.MaterializeResult(metadata={"configured": False})
        landed = []
        for key in context.partition_keys:
            try:
                landed += pull(tokenomics.home, config, connector, date.fromisoformat(key), log=context.log.info)
            except (ConnectorError, ConfigError) as exc:
                raise dg.Failure(description=f"{key}: {exc}") from None
        for item in landed:
            context.log.info(f"{item.source} {item.day}: {item.rows:,} rows, {item.status}: {item.path.name}")
        return dg.MaterializeResult(
            metadata={
                "configured": True,
                "dagster/row_count": sum(item.rows for item in landed),
                "files": dg.MetadataValue.json(
                    [
                        {"source": i.source, "day": i.day, "file": i.path.name, "rows": i.rows, "status": i.status}
                        for i in landed
                    ]
                ),
            }
        )

    return _asset


landing_litellm = _connector_asset(
    "litellm",
    "One UTC day of LiteLLM_SpendLogs read from the proxy's PostgreSQL ($dsn_env) into "
    "landing/litellm/D/litellm_spendlogs_D.jsonl (only the columns the reader needs; never bodies).",
)
landing_openai = _connector_asset(
    "openai",
    "OpenAI admin API usage (/v1/organization/usage/*) and costs for one UTC day into landing/openai_usage "
    "and landing/openai_costs; a changed report lands as a newer _delivered-<ts> file.",
)
landing_anthropic = _connector_asset(
    "anthropic",
    "Anthropic usage_report/messages and cost_report for one UTC day into landing/anthropic_usage and "
    "landing/anthropic_cost; a changed report lands as a newer _delivered-<ts> file.",
)
landing_buckets = _connector_asset(
    "buckets",
    "Cloud billing exports in s3:// buckets (AWS CUR 2.0 by its manifest, Azure, GCP, FOCUS): the rows of "
    "one UTC day of each current delivery, copied into landing/<source>/D/.",
)

GATEWAY_CONNECTORS = ["landing_litellm"]
BILLING_CONNECTORS = {
    "billing_lines": ["landing_openai", "landing_anthropic", "landing_buckets"],
    "provider_usage": ["landing_openai", "landing_anthropic"],
}
"""What each lake asset reads from landing, by asset key (assets/lake.py depends on these)."""


@dg.sensor(
    name="bucket_exports",
    target=dg.AssetSelection.assets("landing_buckets").downstream(),
    minimum_interval_seconds=900,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Lists the s3:// prefixes under connectors.buckets; a new or restated delivery (a CUR manifest, "
        "or an object's size/time) requests landing_buckets and everything downstream for the days it covers."
    ),
)
def bucket_exports(context: dg.SensorEvaluationContext, tokenomics: TokenomicsHome):
    import hashlib
    import json

    from assets.partitions import daily_partitions
    from tokenomics.connectors import buckets

    exports = tokenomics.config().connectors.buckets
    if not exports:
        return dg.SkipReason("no connectors.buckets configured")
    seen = json.loads(context.cursor or "{}")
    now, days = {}, set()
    first = daily_partitions.start.date()
    last = daily_partitions.get_last_partition_window().start.date()
    for export in exports:
        store = buckets.connect(export.url)
        for delivery in buckets.list_deliveries(store, export.source):
            key = f"{export.url}|{delivery.export}"
            now[key] = delivery.version
            if seen.get(key) != delivery.version:
                days.update(d for d in buckets.days_covered(store, delivery) if first <= d <= last)
                context.log.info(f"{export.source}: delivery {delivery.export} ({delivery.stamp}) is new or restated")
    digest = hashlib.sha256(json.dumps(now, sort_keys=True).encode()).hexdigest()[:12]
    context.update_cursor(json.dumps(now, sort_keys=True))
    if not days:
        return dg.SkipReason("no new or restated deliveries")
    # one single-run backfill over the covered range (a CUR month is re-delivered several times a day)
    start, end = str(min(days)), str(max(days))
    return dg.RunRequest(
        run_key=f"bucket-exports-{start}-{end}-{digest}",
        tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
    )
