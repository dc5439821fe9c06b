"""End to end: generated company -> Dagster materialization -> published tables equal the truth."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml

from assets import lake
from assets.resources import TokenomicsHome
from tests.conftest import E2E_DAYS, E2E_START
from tokenomics.home import Home

TOKENS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"]
KEYS = ["day", "team", "feature", "model"]


def _warehouse(home, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def test_usage_daily_equals_truth_for_gateway_traffic(company):
    published = _warehouse(company, "SELECT * FROM usage_daily")
    got = published.group_by(KEYS).agg(pl.col(["requests", *TOKENS]).sum().cast(pl.Int64)).sort(KEYS)
    truth = pl.read_parquet(company.truth / "usage_daily.parquet").filter(pl.col("via_gateway"))
    want = truth.group_by(KEYS).agg(pl.col(["requests", *TOKENS]).sum().cast(pl.Int64)).sort(KEYS)
    assert got.height == want.height
    assert got.equals(want.select(got.columns)), got.join(want, on=KEYS, how="full").filter(
        pl.col("requests") != pl.col("requests_right")
    )


def test_every_day_was_published(company):
    days = _warehouse(company, "SELECT DISTINCT day FROM usage_daily ORDER BY day")["day"].to_list()
    assert days == [E2E_START + timedelta(days=i) for i in range(E2E_DAYS)]


# Published list prices, USD per million tokens: (input, cache read, cache write, output).
LIST_PRICES = {
    "gpt-4o": (Decimal("2.50"), Decimal("1.25"), Decimal("2.50"), Decimal("10.00")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.075"), Decimal("0.15"), Decimal("0.60")),
    "claude-sonnet-4-20250514": (Decimal("3.00"), Decimal("0.30"), Decimal("3.75"), Decimal("15.00")),
    "claude-3-5-haiku-20241022": (Decimal("0.80"), Decimal("0.08"), Decimal("1.00"), Decimal("4.00")),
}


def _independent_cost(row: dict) -> Decimal:
    inp, cache_read, cache_write, out = LIST_PRICES[row["model"]]
    uncached = row["input_tokens"] - row["cache_read_tokens"] - row["cache_write_tokens"]
    cost = (
        uncached * inp
        + row["cache_read_tokens"] * cache_read
        + row["cache_write_tokens"] * cache_write
        + row["output_tokens"] * out
    ) / Decimal(1_000_000)
    return cost / 2 if row["is_batch"] else cost


def test_cost_equals_independent_computation_from_list_prices(company):
    events = pl.read_parquet(company.lake / "usage_events" / "*" / "*.parquet")
    events = events.filter(pl.col("model").is_in(list(LIST_PRICES)) & (pl.col("service_tier") == "default"))
    models_seen = set(events["model"].unique())
    assert len(models_seen) >= 3, models_seen
    mismatches = []
    for row in events.iter_rows(named=True):
        want = _independent_cost(row)
        if abs(row["cost_usd"] - want) > Decimal("1e-9"):
            mismatches.append((row["model"], row["event_id"], row["cost_usd"], want))
    assert not mismatches, mismatches[:5]
    total = _warehouse(company, "SELECT sum(cost_usd) AS c FROM usage_daily")["c"][0]
    assert total > 0


def test_unattributed_and_unpriced_are_visible_not_hidden(company):
    row = _warehouse(
        company,
        "SELECT count(*) FILTER (WHERE team IS NULL OR feature IS NULL) AS nulls, "
        "count(*) FILTER (WHERE team = 'unattributed') AS unattributed FROM usage_daily",
    ).row(0, named=True)
    assert row["nulls"] == 0
    assert row["unattributed"] > 0


UNPRICED_MODEL = "o9-mini"  # the generator's model newer than the pinned catalog (billed by OpenAI, logged at $0)


def test_a_model_the_catalog_does_not_know_is_unpriced_not_free(company):
    truth = pl.read_parquet(company.truth / "usage_daily.parquet").filter(
        pl.col("via_gateway") & (pl.col("model") == UNPRICED_MODEL)
    )
    want = int(truth["requests"].sum())
    assert want > 0  # the generator's truth has the unknown model
    events = pl.read_parquet(company.lake / "usage_events" / "*" / "*.parquet").filter(
        pl.col("model") == UNPRICED_MODEL
    )
    assert events.height == want
    assert set(events["cost_source"]) == {"unpriced"}
    assert events["cost_usd"].null_count() == want and events["model_id"].null_count() == want
    assert (events["reported_cost_usd"].fill_null(0) == 0).all()  # LiteLLM logged 0: not trusted as a price

    daily = _warehouse(
        company,
        f"SELECT sum(requests) AS requests, sum(unpriced_requests) AS unpriced, sum(cost_usd) AS cost "
        f"FROM usage_daily WHERE model = '{UNPRICED_MODEL}'",
    ).row(0, named=True)
    assert daily["requests"] == want and daily["unpriced"] == want
    assert not daily["cost"]  # no invented price: null (or 0 when summed), never a catalog price

    recon = _warehouse(company, "SELECT * FROM reconciliation_daily WHERE provider = 'openai'").filter(
        pl.col("gateway_models").fill_null("").str.contains(UNPRICED_MODEL)
    )
    per_day = truth.group_by("day").agg(pl.col("requests").sum()).sort("day")
    assert recon.select("day", requests=pl.col("unpriced_requests")).sort("day").equals(per_day)
    assert set(recon["likely_cause"]) == {"unpriced_model"}
    assert (recon["unpriced_input_tokens"] > 0).all() and (recon["unpriced_usd"] > 0).all()
    # valued at the bill's own prices, the unpriced tokens explain the gap: the bill is what they cost
    off = recon.filter(
        (pl.col("unpriced_usd") - pl.col("billed_cost_usd")).abs() > pl.col("billed_cost_usd") * Decimal("0.02")
    )
    assert off.height == 0, off.select("day", "unpriced_usd", "billed_cost_usd", "gap_usd", "likely_cause")


def test_billed_totals_per_day_and_provider_equal_truth_after_restatement(company):
    truth = pl.read_parquet(company.truth / "billing_daily.parquet").select(
        "day", "provider", pl.col("billed_cost_usd").alias("want")
    )
    got = _warehouse(company, "SELECT day, provider, sum(effective_cost_usd) AS got FROM billing_daily GROUP BY ALL")
    joined = truth.join(got, on=["day", "provider"], how="full", coalesce=True)
    assert joined.height == truth.height
    off = joined.filter(((pl.col("want") - pl.col("got")).abs() >= Decimal("0.005")) | pl.col("got").is_null())
    assert off.height == 0, off


def _restated_folder(company) -> Path:
    folders = [f for f in company.landing.glob("openai_costs/*") if len(list(f.iterdir())) > 1]
    assert len(folders) == 1, folders  # the generator restates exactly one day
    return folders[0]


@pytest.mark.parametrize("naming", ["generated", "original-then-dash-marker"])
def test_restated_bill_reads_only_the_newest_delivery(company, tmp_path, naming):
    """What the pipeline chose, from billing_lines' own metadata, and the day's bill equals the truth.

    `original-then-dash-marker` renames the deliveries `costs.json` (early) and
    `costs-delivered-<D+3>.json` (final): the final one sorts first by name, and must still win.
    """
    folder = _restated_folder(company)
    day = date.fromisoformat(folder.name)
    early, final = sorted(folder.iterdir())  # the generator's stamps are zero-padded dates
    home = Home(tmp_path)
    target = home.landing_day("openai_costs", day)
    target.mkdir(parents=True)
    if naming == "generated":
        names = {early: early.name, final: final.name}
    else:
        names = {early: "costs.json", final: f"costs-delivered-{day + timedelta(days=3)}.json"}
    for src, name in names.items():
        shutil.copy(src, target / name)
    shutil.copy(company.config_file, home.config_file)
    result = dg.materialize(
        [lake.billing_lines],
        partition_key=str(day),
        resources={"tokenomics": TokenomicsHome(root=str(home.root))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    metadata = result.asset_materializations_for_node("billing_lines")[0].metadata
    assert metadata["superseded_deliveries"].value == [str(target / names[early])]
    assert metadata["files_read"].value == 1
    billed = pl.read_parquet(home.table_day("billing_lines", day) / "*.parquet")["effective_cost"].sum()
    truth = (
        pl.read_parquet(company.truth / "billing_daily.parquet")
        .filter((pl.col("day") == day) & (pl.col("provider") == "openai"))["billed_cost_usd"]
        .sum()
    )
    assert abs(billed - truth) < Decimal("0.005"), (billed, truth)


def test_provider_reported_tokens_equal_truth(company):
    keys = ["day", "provider", "model"]
    truth = pl.read_parquet(company.truth / "provider_usage.parquet")
    want = truth.group_by(keys).agg(pl.col(TOKENS[:4]).sum().cast(pl.Int64)).sort(keys)
    lake = pl.read_parquet(company.lake / "provider_usage" / "*" / "*.parquet")
    got = lake.group_by(keys).agg(pl.col(TOKENS[:4]).sum().cast(pl.Int64)).sort(keys)
    assert got.equals(want.select(got.columns)), got.join(want, on=keys, how="full")


def test_clean_generated_data_passes_every_expectation(company):
    results = _warehouse(company, 'SELECT day, "table", "check", passed, message FROM data_quality')
    assert results.height > 0
    tables = set(results["table"].unique())
    assert {
        "usage_events",
        "billing_lines",
        "provider_usage",
        "usage_daily",
        "billing_daily",
        "gateway_vs_billing",
    } <= tables
    failed = results.filter(~pl.col("passed"))
    assert failed.height == 0, failed["message"].to_list()[:5]


def test_every_contract_table_is_published(company):
    tables = set(_warehouse(company, "SELECT table_name FROM information_schema.tables")["table_name"])
    contract = {
        "usage_daily",
        "billing_daily",
        "reconciliation_daily",
        "chargeback_monthly",
        "budget_status",
        "anomalies",
        "alerts",
        "data_quality",
        "savings_opportunities",
        "self_host_tco",
    }  # DESIGN section 5
    assert contract <= tables, contract - tables
    days = [E2E_START + timedelta(days=i) for i in range(E2E_DAYS)]
    truth_bill = pl.read_parquet(company.truth / "billing_daily.parquet")

    recon = _warehouse(company, "SELECT DISTINCT day, provider FROM reconciliation_daily")
    want_pairs = set(truth_bill.select("day", "provider").iter_rows())
    assert want_pairs <= set(recon.iter_rows()), want_pairs - set(recon.iter_rows())

    chargeback = _warehouse(company, "SELECT * FROM chargeback_monthly")
    assert set(chargeback["month"]) == {date(2026, 3, 1)}
    truth_teams = set(pl.read_parquet(company.truth / "usage_daily.parquet")["team"])
    assert truth_teams <= set(chargeback["team"]) | {"unattributed"}, truth_teams - set(chargeback["team"])
    cents = Decimal("0.01") * chargeback.height  # each team's total is rounded to the cent
    assert abs(chargeback["total_cost_usd"].sum() - truth_bill["billed_cost_usd"].sum()) <= cents

    budgets = yaml.safe_load(company.config_file.read_text())["budgets"]
    status = _warehouse(company, "SELECT as_of, team, feature FROM budget_status")
    assert status.height == len(budgets) * E2E_DAYS  # one row per configured budget and day
    assert sorted(set(status["as_of"])) == days

    quality = _warehouse(company, 'SELECT "table", count(DISTINCT day) AS days FROM data_quality GROUP BY ALL')
    assert dict(quality.iter_rows()) == {
        t: E2E_DAYS
        for t in (
            "usage_events",
            "billing_lines",
            "provider_usage",
            "usage_daily",
            "billing_daily",
            "gateway_vs_billing",
        )
    }
    alerts = _warehouse(company, "SELECT alert_key, channel, status FROM alerts")
    assert alerts.height > 0 and alerts.select("alert_key", "channel").is_unique().all()
    assert set(alerts["status"]) == {"skipped_backfill"}  # a backfill of old days pages nobody
    savings = _warehouse(company, "SELECT * FROM savings_opportunities")
    assert savings.height > 0 and (savings["monthly_savings_usd"] > 0).all()
    verdicts = _warehouse(company, "SELECT verdict FROM self_host_tco")["verdict"]
    assert verdicts.len() > 0 and verdicts.str.contains("self-hosting").all()
