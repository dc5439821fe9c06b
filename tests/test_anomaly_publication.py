"""A lone day waits for the days after it (detector.DECAY_DAYS): nightly runs through real Dagster
materializations publish it, and alert it, one night later; the decaying echo of noise never."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import dagster as dg
import numpy as np
import polars as pl
import pytest
import yaml

from assets.insights import alerts, detect_anomalies
from assets.resources import TokenomicsHome
from tokenomics.home import Home
from tokenomics.lake import replace_partition

TODAY = datetime.now(timezone.utc).date()
START = TODAY - timedelta(days=60)
LATEST = TODAY - timedelta(days=1)  # the newest daily partition (a night processes yesterday)
SPIKE = LATEST - timedelta(days=1)  # its own night has run; the next night decides it
STREAMS = [("search", "answer-gen", 1200), ("support", "reply-draft", 900), ("legal", "clause-extract", 700)]


def usage_day(day: date, factor: dict[str, float], rng: np.random.Generator) -> pl.DataFrame:
    rows = []
    for team, feature, requests in STREAMS:
        n = int(requests * np.exp(rng.normal(0, 0.08)) * factor.get(team, 1.0))
        inp, out = n * 1500, n * 200
        rows.append(
            {
                "day": day,
                "team": team,
                "feature": feature,
                "provider": "anthropic",
                "model": "claude-sonnet-4",
                "requests": n,
                "errors": n // 100,
                "input_tokens": inp,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "output_tokens": out,
                "reasoning_tokens": 0,
                "cost_usd": Decimal(str(round(inp * 3e-6 + out * 15e-6, 9))),
            }
        )
    return pl.DataFrame(rows).with_columns(pl.col("cost_usd").cast(pl.Decimal(38, 12)))


def night(home: Home, day: date) -> None:
    """The nightly run of `day`: the detector step and the alerts step, materialized by Dagster."""
    result = dg.materialize(
        [detect_anomalies, alerts],
        partition_key=str(day),
        resources={"tokenomics": TokenomicsHome(root=str(home.root))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success


def incidents_of(home: Home, day: date) -> pl.DataFrame:
    files = list(home.mart_day("incidents", day).glob("*.parquet"))
    return pl.read_parquet(files) if files else pl.DataFrame()


def sent_alerts(home: Home) -> list[str]:
    path = home.alerts / "alerts.jsonl"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def home(tmp_path) -> Home:
    home = Home(tmp_path)
    home.root.mkdir(parents=True, exist_ok=True)
    channel = {"name": "file", "kind": "file", "path": "alerts.jsonl", "min_severity": "info"}
    home.config_file.write_text(yaml.safe_dump({"alerts": {"channels": [channel], "recency_days": 3}}))
    return home


def write_usage(home: Home, days: dict[date, dict[str, float]], seed: int = 4) -> None:
    rng = np.random.default_rng(seed)
    for offset in range((max(days) - START).days + 1):
        day = START + timedelta(days=offset)
        replace_partition(home.mart_day("usage_daily", day), usage_day(day, days.get(day, {}), rng))


def test_a_lone_spike_is_published_and_alerted_one_night_later(home):
    write_usage(home, {SPIKE: {"support": 1.8}})  # up to the spike day
    night(home, SPIKE)
    assert incidents_of(home, SPIKE).height == 0, "its own night: held, the next days decide it"
    assert not [a for a in sent_alerts(home) if "support" in a]

    write_usage(home, {SPIKE: {"support": 1.8}, LATEST: {}})  # the next day is an ordinary day
    night(home, LATEST)
    published = incidents_of(home, SPIKE)  # rewritten by tonight's run: a step back down, a real spike
    assert published.height == 1 and published["team"].to_list() == ["support"]
    assert len([a for a in sent_alerts(home) if "support" in a]) == 1
    night(home, LATEST)  # a rerun sends nothing twice
    assert len([a for a in sent_alerts(home) if "support" in a]) == 1


def test_the_decaying_echo_of_noise_is_never_published(home):
    decaying = {SPIKE - timedelta(days=1): {"support": 1.8}, SPIKE: {"support": 1.35}, LATEST: {"support": 1.12}}
    write_usage(home, decaying)
    for day in decaying:
        night(home, day)
    assert all(incidents_of(home, d).height == 0 for d in decaying)
    assert not [a for a in sent_alerts(home) if "support" in a]
