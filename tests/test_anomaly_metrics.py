"""Metric series, incidents with root cause, scoring and the `detect` CLI body."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tokenomics.anomalies.cli_detect import run_detect
from tokenomics.anomalies.incidents import build_incidents
from tokenomics.anomalies.metrics import detect_usage, metric_series
from tokenomics.anomalies.scoring import evaluate, score_alerts

START = date(2025, 1, 6)
# $ per token: gpt-4.1 input 2e-6, output 8e-6; gpt-4.1-mini input 0.4e-6, output 1.6e-6
PRICE = {"gpt-4.1": (2e-6, 8e-6), "gpt-4.1-mini": (0.4e-6, 1.6e-6)}


def usage_row(
    day: int,
    team: str,
    feature: str,
    model: str,
    requests: int,
    in_per_req: int,
    out_per_req: int,
    errors: int = 0,
    cache_read_share: float = 0.0,
) -> dict:
    inp, out = requests * in_per_req, requests * out_per_req
    cost = inp * PRICE[model][0] + out * PRICE[model][1]
    return {
        "day": START + timedelta(days=day),
        "team": team,
        "feature": feature,
        "provider": "openai",
        "model": model,
        "requests": requests,
        "errors": errors,
        "input_tokens": inp,
        "cache_read_tokens": int(inp * cache_read_share),
        "cache_write_tokens": 0,
        "output_tokens": out,
        "reasoning_tokens": 0,
        "cost_usd": Decimal(str(round(cost, 9))),
    }


def company(days: int = 50, bloat_day: int | None = None) -> pl.DataFrame:
    """support: reply-drafter on gpt-4.1 ($5.60/day) and faq on gpt-4.1-mini ($1.00/day)."""
    rows = []
    for d in range(days):
        bloat = 4 if bloat_day is not None and d >= bloat_day else 1
        rows.append(usage_row(d, "support", "reply-drafter", "gpt-4.1", 1000, 2000 * bloat, 200))
        rows.append(usage_row(d, "support", "faq", "gpt-4.1-mini", 1000, 1500, 250))
    return pl.DataFrame(rows).with_columns(pl.col("cost_usd").cast(pl.Decimal(38, 12)))


def test_metric_series_has_null_rates_on_days_without_requests():
    usage = company(10).filter(~((pl.col("feature") == "faq") & (pl.col("day") == START + timedelta(days=5))))
    series = metric_series(usage)
    faq = series.filter((pl.col("series") == "error_rate:support/faq") & (pl.col("day") == START + timedelta(days=5)))
    assert faq["value"].to_list() == [None]
    cost = series.filter((pl.col("series") == "cost:support/faq") & (pl.col("day") == START + timedelta(days=5)))
    assert cost["value"].to_list() == [0.0]
    assert set(series["level"].unique()) == {"team", "team_feature", "team_model"}


def test_prompt_bloat_incident_names_feature_model_and_token_type():
    usage = company(50, bloat_day=45)
    detections = detect_usage(usage)
    incidents = build_incidents(detections, usage)
    assert incidents.height == 1
    incident = incidents.row(0, named=True)
    assert incident["day"] == START + timedelta(days=45)
    assert incident["team"] == "support" and incident["feature"] == "reply-drafter"
    assert incident["explanation"] == (
        "support/reply-drafter: +$12.00 (3.1x expected), 100% from gpt-4.1 input tokens; input tokens per request 4.0x"
    )
    assert incident["severity"] == "warning"
    assert incident["root_cause"][0]["feature"] == "reply-drafter"
    assert incident["root_cause"][0]["share"] == pytest.approx(1.0)


def test_a_level_shift_pages_once():
    usage = company(60, bloat_day=45)  # the bloat stays: one incident, not one per day
    incidents = build_incidents(detect_usage(usage), usage)
    assert incidents["day"].to_list() == [START + timedelta(days=45)]
    assert incidents["kind"].to_list() == ["level_shift"]


def test_error_rate_on_a_tiny_day_is_not_a_retry_storm():
    usage = company(50)
    usage = usage.with_columns(
        pl.when((pl.col("feature") == "faq") & (pl.col("day") == START + timedelta(days=45)))
        .then(pl.lit(10))
        .otherwise(pl.col("requests"))
        .alias("requests"),
        pl.when((pl.col("feature") == "faq") & (pl.col("day") == START + timedelta(days=45)))
        .then(pl.lit(5))
        .otherwise(pl.col("errors"))
        .alias("errors"),
    )
    detections = detect_usage(usage)
    storm = detections.filter((pl.col("metric") == "error_rate") & pl.col("is_anomaly"))
    assert storm.height == 0  # 5 errors out of 10 requests: below the volume gate


def test_retry_storm_is_detected_by_error_rate():
    usage = company(50).with_columns(
        pl.when((pl.col("feature") == "faq") & (pl.col("day") == START + timedelta(days=45)))
        .then(pl.lit(400))
        .otherwise(pl.col("errors"))
        .alias("errors")
    )
    incidents = build_incidents(detect_usage(usage), usage)
    assert incidents["explanation"].to_list() == ["support/faq: error rate 0% -> 40%"]


SCORED_INCIDENTS = pl.DataFrame(
    {
        "day": [date(2025, 3, 1), date(2025, 3, 3), date(2025, 3, 20), date(2025, 3, 20)],
        "last_day": [date(2025, 3, 1), date(2025, 3, 5), date(2025, 3, 20), date(2025, 3, 20)],
        "team": ["a", "b", "a", "c"],
        "feature": ["x", None, "y", None],
        "model": [None, None, None, None],
        "severity": ["warning", "critical", "warning", "info"],
    }
)
INJECTED = pl.DataFrame(
    {
        "start_day": [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 10)],
        "end_day": [date(2025, 3, 1), date(2025, 3, 6), date(2025, 3, 10)],
        "team": ["a", "b", "a"],
        "feature": ["x", "q", "z"],
        "model": [None, None, None],
        "kind": ["spike", "level_shift", "spike"],
    }
)


def test_scoring_counts_recall_precision_delay_and_false_alerts():
    score = score_alerts(SCORED_INCIDENTS, INJECTED, series_count=10, days=70)
    # a/x on its day (delay 0); b/q one day late (team-level alert covers feature q); a/z missed
    assert (score.events, score.detected, score.recall) == (3, 2, 2 / 3)
    assert score.median_delay_days == 0.5
    # the info alert is not counted; a/y on 03-20 matches nothing
    assert (score.alerts, score.true_alerts, score.false_alerts) == (3, 2, 1)
    assert score.false_per_100_series_weeks == pytest.approx(100 * 1 / (10 * 70 / 7))
    assert score.by_kind == {"spike": (1, 2), "level_shift": (1, 1)}


def test_evaluate_scores_a_small_company_end_to_end():
    usage = company(50, bloat_day=45)
    injected = pl.DataFrame(
        {
            "start_day": [START + timedelta(days=45)],
            "end_day": [START + timedelta(days=49)],
            "team": ["support"],
            "feature": ["reply-drafter"],
            "model": ["gpt-4.1"],
            "kind": ["prompt_bloat"],
        }
    )
    score, incidents = evaluate(usage, injected)
    assert (score.recall, score.precision, score.median_delay_days) == (1.0, 1.0, 0.0)


def test_run_detect_reads_csv_and_writes_parquet(tmp_path: Path):
    days = [START + timedelta(days=i) for i in range(30)]
    values = [100.0] * 30
    values[25] = 900.0
    src = tmp_path / "series.csv"
    pl.DataFrame({"day": days, "series": ["s"] * 30, "value": values}).write_csv(src)
    written = run_detect(src, tmp_path / "out" / "anomalies.parquet")
    out = pl.read_parquet(tmp_path / "out" / "anomalies.parquet")
    assert written == out.height == 30
    assert out.filter(pl.col("is_anomaly"))["day"].to_list() == [START + timedelta(days=25)]
    assert {"expected", "lower", "upper", "score", "is_anomaly", "kind", "episode_id"} <= set(out.columns)


def test_run_detect_names_missing_columns(tmp_path: Path):
    src = tmp_path / "bad.csv"
    src.write_text("day,name,value\n2025-01-01,a,1\n")
    with pytest.raises(ValueError, match="lacks column\\(s\\) series"):
        run_detect(src, tmp_path / "out.csv")


def test_run_detect_names_a_bad_day(tmp_path: Path):
    src = tmp_path / "bad.csv"
    src.write_text("day,series,value\n01/02/2025,a,1\n")
    with pytest.raises(ValueError, match="cannot parse day '01/02/2025'"):
        run_detect(src, tmp_path / "out.csv")


def test_incident_becomes_one_alert_with_a_stable_key():
    from tokenomics.alerts.model import alerts_from_incidents

    usage = company(50, bloat_day=45)
    incidents = build_incidents(detect_usage(usage), usage)
    [alert] = alerts_from_incidents(incidents)
    again = alerts_from_incidents(build_incidents(detect_usage(usage), usage))
    assert alert.key == again[0].key == f"anomaly:{incidents['incident_id'][0]}"
    assert (alert.day, alert.team, alert.severity) == (START + timedelta(days=45), "support", "warning")
    assert alert.title == "Cost level shift: support/reply-drafter"  # the bloat stayed (days 45-49)
    assert alert.text.startswith("support/reply-drafter: +$12.00 (3.1x expected)")
    assert alert.facts["impact"] == "$12.00"


def test_published_anomaly_rows_carry_incident_and_root_cause():
    from tokenomics.anomalies.usage_anomalies import find_usage_anomalies

    found = find_usage_anomalies(company(50, bloat_day=45))
    first_day = found.anomalies.filter(pl.col("day") == START + timedelta(days=45))
    cost = first_day.filter(pl.col("series") == "cost:support/reply-drafter").row(0, named=True)
    assert cost["is_anomaly"] and cost["kind"] == "spike"
    assert cost["incident_id"] == found.incidents["incident_id"][0]
    assert cost["explanation"].startswith("support/reply-drafter: +$12.00")
    assert cost["root_cause"][0]["model"] == "gpt-4.1"
    bloat = first_day.filter(pl.col("series") == "input_tokens_per_request:support/reply-drafter").row(0, named=True)
    assert bloat["value"] == 8000.0 and bloat["incident_id"] == cost["incident_id"]
