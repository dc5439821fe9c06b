"""Monthly chargeback totals, per-team statements and the FOCUS export of allocated costs."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import duckdb
import polars as pl
import pytest

from tokenomics.finance.allocation import allocate
from tokenomics.finance.chargeback import chargeback_monthly, write_statements
from tokenomics.finance.focus_export import focus_frame, write_focus
from tokenomics.schema import MONEY

MAR_2, MAR_3, APR_1 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 4, 1)
KEYS = {"day": pl.Date, "provider": pl.String, "team": pl.String, "feature": pl.String, "model": pl.String}


def _direct(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [dict(zip([*KEYS, "direct_cost_usd"], (*r[:5], Decimal(r[5])), strict=True)) for r in rows],
        schema={**KEYS, "direct_cost_usd": MONEY},
        orient="row",
    )


def _billed(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"day": d, "provider": p, "billed_cost_usd": Decimal(b)} for d, p, b in rows],
        schema={"day": pl.Date, "provider": pl.String, "billed_cost_usd": MONEY},
    )


@pytest.fixture
def allocation() -> pl.DataFrame:
    """Two March days and one April day; anthropic has no gateway traffic on the 3rd; mistral has no bill."""
    direct = _direct(
        [
            (MAR_2, "openai", "search", "answers", "gpt-4o", "30"),
            (MAR_2, "openai", "support", "triage", "gpt-4o-mini", "10"),
            (MAR_2, "anthropic", "search", "answers", "claude-sonnet-4", "20"),
            (MAR_3, "openai", "search", "answers", "gpt-4o", "10"),
            (MAR_3, "mistral", "support", "triage", "mistral-large", "1.005"),
            (APR_1, "openai", "search", "answers", "gpt-4o", "5"),
        ]
    )
    billed = _billed(
        [
            (MAR_2, "openai", "50"),
            (MAR_2, "anthropic", "25"),
            (MAR_3, "openai", "12.5"),
            (MAR_3, "anthropic", "7"),
            (APR_1, "openai", "5"),
        ]
    )
    out = allocate(direct, billed, "proportional")
    return out.with_columns(
        pl.when(pl.col("model").is_not_null()).then(pl.lit(1000)).alias("input_tokens").cast(pl.Int64),
        pl.when(pl.col("model").is_not_null()).then(pl.lit(100)).alias("output_tokens").cast(pl.Int64),
        pl.lit(0, pl.Int64).alias("cache_read_tokens"),
        pl.lit(0, pl.Int64).alias("cache_write_tokens"),
        pl.lit(0, pl.Int64).alias("reasoning_tokens"),
        pl.when(pl.col("model").is_not_null()).then(pl.lit(2)).alias("requests").cast(pl.Int64),
        pl.when(pl.col("model").is_not_null())
        .then(pl.concat_str([pl.lit("genai-prices:"), pl.col("model")]))
        .alias("price_refs"),
    )


def test_chargeback_monthly_totals_equal_the_months_bills(allocation):
    out = chargeback_monthly(allocation)
    march = out.filter(pl.col("month") == date(2026, 3, 1))  # month is a DATE, the first day
    assert march["team"].to_list() == ["search", "support"]
    # March bills: 50 + 25 + 12.5 + 7 = 94.50, plus mistral's unbilled gateway estimate 1.01 (rounded 1.005)
    assert march["total_cost_usd"].sum() == Decimal("95.51")
    assert march["reconciled_cost_usd"].sum() == Decimal("94.50")
    search = march.row(0, named=True)
    # search: openai 2nd 30 + 7.5, anthropic 2nd 25, openai 3rd 12.5, and anthropic's 7.00 on the 3rd (no
    # gateway traffic) by that day's direct cost on all providers: 7 * 10 / 11.005 = 6.36 ('(shared)' line)
    assert (search["direct_cost_usd"], search["total_cost_usd"]) == (Decimal(60), Decimal("81.36"))
    assert search["allocation_methods"] == "proportional"
    support = march.row(1, named=True)
    assert (support["unbilled_cost_usd"], support["reconciled_share"]) == (Decimal("1.01"), Decimal("0.928622"))


def test_statements_add_up_and_say_how_they_were_made(allocation, tmp_path):
    recon = pl.DataFrame(
        {
            "day": [MAR_2, MAR_2],
            "provider": ["openai", "anthropic"],
            "billed_cost_usd": [Decimal(50), Decimal(25)],
            "gateway_cost_usd": [Decimal(45), Decimal(20)],
            "gap_usd": [Decimal(5), Decimal(5)],
            "likely_cause": ["outside_gateway", "price_difference"],
        },
        schema_overrides={c: MONEY for c in ("billed_cost_usd", "gateway_cost_usd", "gap_usd")},
    )
    paths = write_statements({"allocation_daily": allocation, "reconciliation_daily": recon}, "2026-03", tmp_path)
    assert [p.name for p in paths] == ["search.csv", "search.md", "support.csv", "support.md"]
    csv = pl.read_csv(paths[0], schema_overrides={"total_cost_usd": pl.String, "direct_cost_usd": pl.String})
    assert csv["line_type"].to_list() == ["residual", "usage", "usage", "total"]
    assert csv["feature"].to_list()[:3] == ["(shared)", "answers", "answers"]
    assert csv.filter(pl.col("line_type") == "total")["total_cost_usd"].item() == "81.36"
    assert csv["price_refs"].to_list()[1] == "genai-prices:claude-sonnet-4"
    md = paths[1].read_text()
    assert "# LLM chargeback statement: search, March 2026" in md
    assert "| **Total to charge** | **81.36** |" in md
    assert "proportional: the residual is spread in proportion to each team's direct cost" in md
    assert "on provider-days without gateway traffic, by each team's share" in md
    assert "| anthropic | 20.00 | 11.36 | 31.36 | 12.00 | reconciled (2 of 2 days) |" in md
    assert "| openai | 50.00 | 45.00 | 90.0% | outside_gateway |" in md
    support = paths[3].read_text()
    assert "| mistral | 1.01 | 0.00 | 1.01 | 0.00 | unbilled (0 of 1 days) |" in support


def test_statements_read_the_published_warehouse(allocation, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.register("allocation", allocation.to_arrow())
    con.execute("CREATE TABLE allocation_daily AS SELECT * FROM allocation")
    con.close()
    paths = write_statements(warehouse, "2026-04", tmp_path / "out")
    assert [p.name for p in paths] == ["search.csv", "search.md"]
    assert "| **Total to charge** | **5.00** |" in paths[1].read_text()
    with pytest.raises(ValueError, match="YYYY-MM"):
        write_statements(warehouse, "2026-4", tmp_path)


# --------------------------------------------------------------------------------------------
# FOCUS


def _prices(provider, model, day):
    """$2.50 input / $10 output per million for every model."""
    return SimpleNamespace(
        input=Decimal("2.5"), output=Decimal(10), cache_read=Decimal("1.25"), cache_write=Decimal("2.5")
    )


def test_focus_rows_sum_to_the_allocated_totals_with_llm_details(allocation):
    focus = focus_frame(allocation, unit_prices=_prices)
    assert focus["BilledCost"].sum() == allocation["total_cost_usd"].sum()
    search = focus.filter(
        (pl.col("SubAccountId") == "search")
        & (pl.col("ChargePeriodStart") == datetime(2026, 3, 2, tzinfo=timezone.utc))
    )
    openai = search.filter(pl.col("x_Provider") == "openai")
    # 30.00 direct on 1000 input + 100 output tokens: weights 2500 : 1000 -> 21.43 / 8.57; residual 7.50
    assert openai.select("x_CostKind", "x_TokenType", "BilledCost", "ConsumedQuantity").rows() == [
        ("direct", "input", Decimal("21.43"), Decimal(1000)),
        ("direct", "output", Decimal("8.57"), Decimal(100)),
        ("allocated_residual", None, Decimal("7.50"), None),
    ]
    first = openai.row(0, named=True)
    assert (first["ProviderName"], first["ServiceName"], first["ServiceCategory"], first["ChargeCategory"]) == (
        "OpenAI",
        "OpenAI API",
        "AI and Machine Learning",
        "Usage",
    )
    assert json.loads(first["Tags"]) == {"team": "search", "feature": "answers"}
    assert (first["x_Model"], first["x_PriceRef"], first["x_AllocationMethod"]) == (
        "gpt-4o",
        "genai-prices:gpt-4o",
        "proportional",
    )
    assert openai.row(2, named=True)["ChargeCategory"] == "Adjustment"
    assert first["BillingPeriodStart"] == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert first["ChargePeriodEnd"] == datetime(2026, 3, 3, tzinfo=timezone.utc)


def test_focus_without_prices_keeps_one_line_per_usage_row(allocation):
    focus = focus_frame(allocation, unit_prices=lambda *args: None)
    assert set(focus.filter(pl.col("x_CostKind") == "direct")["x_TokenType"]) == {"all"}
    assert focus["BilledCost"].sum() == allocation["total_cost_usd"].sum()


def test_write_focus_writes_csv_and_parquet(allocation, tmp_path):
    paths = write_focus(allocation, tmp_path, unit_prices=_prices)
    assert [p.suffix for p in paths] == [".csv", ".parquet"]
    parquet = pl.read_parquet(paths[1])
    assert parquet["BilledCost"].sum() == allocation["total_cost_usd"].sum()
    header = paths[0].read_text().splitlines()[0].split(",")
    assert header[:3] == ["BilledCost", "EffectiveCost", "ListCost"]
    assert "2026-03-02T00:00:00Z" in paths[0].read_text()


def test_build_chargeback_month_rewrites_one_month_from_the_mart(allocation, tmp_path):
    from tokenomics.finance.chargeback import build_chargeback_month
    from tokenomics.home import Home
    from tokenomics.lake import read_partition, replace_partition

    home = Home(tmp_path)
    for day in allocation["day"].unique().to_list():
        replace_partition(home.mart_day("allocation_daily", day), allocation.filter(pl.col("day") == day))
    assert build_chargeback_month(home, "2026-03") == 2
    march = read_partition(home.lake / "marts" / "chargeback_monthly" / "month=2026-03")
    assert march["total_cost_usd"].sum() == Decimal("95.51")
    assert build_chargeback_month(home, "2026-05") == 0
