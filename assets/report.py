"""The offline HTML report, rewritten after each publish for every month the run touched."""

import base64

import dagster as dg

from assets.partitions import daily_asset
from assets.publish import warehouse
from assets.resources import TokenomicsHome
from tokenomics.report.html import write_report


def _chart_markdown(home, month: str) -> dg.MetadataValue:
    """The daily-cost chart as an inline PNG, so the asset's page in the UI shows it without a server."""
    import duckdb

    from tokenomics.report import charts

    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        daily = con.sql(
            "SELECT day, team, sum(cost_usd) AS cost_usd FROM usage_daily WHERE strftime(day, '%Y-%m') = ? GROUP BY ALL",
            params=[month],
        ).pl()
    finally:
        con.close()
    if daily.height == 0:
        return dg.MetadataValue.md("_no usage this month_")
    png = base64.b64encode(charts.to_png(charts.daily_cost_by_team(daily))).decode()
    return dg.MetadataValue.md(f"![daily cost by team, {month}](data:image/png;base64,{png})")


@daily_asset(
    deps=[warehouse],
    group_name="publish",
    kinds={"html"},
    description=(
        "reports/report-<YYYY-MM>.html: one self-contained offline HTML file per month (charts as inline SVG, "
        "money tables beside them), rebuilt from the published warehouse for each month the run touched."
    ),
)
def report(context: dg.AssetExecutionContext, tokenomics: TokenomicsHome) -> dg.MaterializeResult:
    home = tokenomics.home
    months = sorted({key[:7] for key in context.partition_keys})
    paths = [write_report(home.warehouse, home.reports / f"report-{month}.html", month) for month in months]
    for path in paths:
        context.log.info(f"wrote {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths[-1])),
            "reports": dg.MetadataValue.json([str(p) for p in paths]),
            "daily_cost_by_team": _chart_markdown(home, months[-1]),
        }
    )
