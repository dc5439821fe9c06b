"""Lake assets: landing files normalized into canonical, deduplicated day partitions."""

from datetime import date

import dagster as dg
import polars as pl

from assets.connectors import BILLING_CONNECTORS, GATEWAY_CONNECTORS
from assets.metadata import file_counts_table, markdown_table
from assets.partitions import daily_asset
from assets.resources import TokenomicsHome
from tokenomics import sources
from tokenomics.deliveries import latest_deliveries
from tokenomics.ingest import DayIngest, landing_files, usage_enricher, write_day
from tokenomics.lake import read_partition
from tokenomics.stats import billing_partition_stats, usage_partition_stats


def _enabled(config, names: tuple[str, ...]) -> list[str]:
    wanted = set(config.sources) if getattr(config, "sources", None) else set(names)
    return [n for n in names if n in wanted and n in sources.available()]


def _sources_for(table: str, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if table in sources.reader(n).TABLES]


def _day_files(home, config, table: str, day: date, names: tuple[str, ...], latest_wins: bool):
    chosen, superseded = [], []
    for source in _sources_for(table, tuple(_enabled(config, names))):
        files = landing_files(home, source, day)
        if latest_wins:
            files, old = latest_deliveries(files)
            superseded += old
        chosen += [(source, f) for f in files]
    return chosen, superseded


def _summary(context, reports: list[DayIngest], table: str, superseded: list) -> dict:
    files = [f for r in reports for f in r.files]
    context.log.info(
        f"{table}: {sum(r.rows.get(table, 0) for r in reports)} rows from {len(files)} files over "
        f"{len(reports)} day(s); {sum(r.quarantined for r in reports)} quarantined"
    )
    return {
        "dagster/row_count": sum(r.rows.get(table, 0) for r in reports),
        "days": len(reports),
        "files_read": len(files),
        "rows_read": sum(f.read for f in files),
        "quarantined_rows": sum(r.quarantined for r in reports),
        "deduplicated_rows": sum(f.deduplicated for f in files),
        "skipped_rows": sum(f.skipped for f in files),
        "superseded_deliveries": dg.MetadataValue.json([str(s) for s in superseded]),
        "files": file_counts_table(files),
    }


@daily_asset(
    group_name="lake",
    kinds={"polars", "parquet"},
    deps=GATEWAY_CONNECTORS,
    description=(
        "Canonical request-level usage from gateway logs (LiteLLM, OpenTelemetry, ...): one row per "
        "LLM request, attributed to team/feature and priced from the pinned catalog plus overrides. "
        "lake/usage_events/day=D/; bad rows in quarantine/usage_events/day=D/ with a reason."
    ),
)
def usage_events(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home, config = tokenomics.home, tokenomics.config()
    enrich = {"usage_events": usage_enricher(config)}
    reports, per_day = [], []
    for key in context.partition_keys:
        day = date.fromisoformat(key)
        files, _ = _day_files(home, config, "usage_events", day, sources.GATEWAY_SOURCES, latest_wins=False)
        with tokenomics.pseudonymizing():
            report = write_day(home, day, files, ["usage_events"], enrich=enrich)
        stats = usage_partition_stats(home.table_day("usage_events", day))
        reports.append(report)
        per_day.append({"day": key, **stats, "cost_usd": float(stats["cost_usd"]), "quarantined": report.quarantined})
    totals = pl.DataFrame(per_day)
    metadata = _summary(context, reports, "usage_events", [])
    metadata.update(
        {
            "tokens": int(totals["tokens"].sum()),
            "cost_usd": round(float(totals["cost_usd"].sum()), 6),
            "unattributed_rows": int(totals["unattributed_rows"].sum()),
            "unattributed_cost_share": round(
                float((totals["unattributed_cost_share"] * totals["cost_usd"]).sum() / totals["cost_usd"].sum())
                if totals["cost_usd"].sum()
                else 0.0,
                4,
            ),
            "unpriced_rows": int(totals["unpriced_rows"].sum()),
            "per_day": markdown_table(totals, limit=400),
            "preview": markdown_table(
                read_partition(home.table_day("usage_events", reports[-1].day)).drop("labels", "request_tags"), 10
            ),
        }
    )
    return dg.MaterializeResult(metadata=metadata)


def _billing_asset(table: str, description: str):
    @daily_asset(
        name=table,
        group_name="lake",
        kinds={"polars", "parquet"},
        deps=BILLING_CONNECTORS[table],
        description=description,
    )
    def _asset(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
        home, config = tokenomics.home, tokenomics.config()
        reports, superseded, per_day = [], [], []
        for key in context.partition_keys:
            day = date.fromisoformat(key)
            files, old = _day_files(home, config, table, day, sources.BILLING_SOURCES, latest_wins=True)
            superseded += old
            report = write_day(home, day, files, [table])
            reports.append(report)
            per_day.append({"day": key, "rows": report.rows.get(table, 0), "quarantined": report.quarantined})
        metadata = _summary(context, reports, table, superseded)
        metadata["per_day"] = markdown_table(pl.DataFrame(per_day), limit=400)
        if table == "billing_lines":
            by_currency = billing_partition_stats(home.table_day(table, reports[-1].day))["by_currency"]
            metadata["last_day_billed"] = dg.MetadataValue.json({k: str(v["billed"]) for k, v in by_currency.items()})
        metadata["preview"] = markdown_table(read_partition(home.table_day(table, reports[-1].day)), 10)
        return dg.MaterializeResult(metadata=metadata)

    return _asset


billing_lines = _billing_asset(
    "billing_lines",
    "Billed line items from provider exports (OpenAI/Anthropic cost reports, AWS CUR, Azure, GCP, FOCUS), "
    "FOCUS-aligned, one row per line and UTC day. The newest delivery of a day replaces earlier ones "
    "(providers restate). Non-AI lines of whole-cloud bills are counted as skipped.",
)
provider_usage = _billing_asset(
    "provider_usage",
    "Token counts the providers themselves report (OpenAI usage API, Anthropic usage report), "
    "used to reconcile tokens where billing_lines reconcile dollars.",
)
