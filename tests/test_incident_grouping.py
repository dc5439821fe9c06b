"""One incident per cause: a provider outage across teams is one incident naming the provider."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl

from tokenomics.alerts.model import alerts_from_incidents
from tokenomics.anomalies.incidents import SHARED_TEAM, build_incidents
from tokenomics.anomalies.metrics import detect_usage

START = date(2025, 1, 6)
PRICE = {"claude-sonnet-4": (3e-6, 15e-6), "gpt-4.1": (2e-6, 8e-6)}  # $ per input, output token
STREAMS = [  # team, feature, provider, model, requests a day
    ("search", "answer-gen", "anthropic", "claude-sonnet-4", 1200),
    ("support", "reply-draft", "anthropic", "claude-sonnet-4", 900),
    ("legal", "clause-extract", "anthropic", "claude-sonnet-4", 700),
    ("growth", "email-copy", "openai", "gpt-4.1", 1000),
]
EVENT_DAY = 45


def company(outage: bool = False, bloat_teams: tuple[str, ...] = ()) -> pl.DataFrame:
    """50 quiet days; on EVENT_DAY either anthropic goes down (traffic x0.4, 70% errors) or some
    teams' prompts grow 4x."""
    rows = []
    for d in range(50):
        for team, feature, provider, model, requests in STREAMS:
            event = d == EVENT_DAY
            down = outage and event and provider == "anthropic"
            n = int(requests * (0.4 if down else 1.0))
            errors = int(n * 0.7) if down else n // 100
            in_per = 1500 * (4 if event and team in bloat_teams else 1)
            inp, out = n * in_per, n * 200
            rows.append(
                {
                    "day": START + timedelta(days=d),
                    "team": team,
                    "feature": feature,
                    "provider": provider,
                    "model": model,
                    "requests": n,
                    "errors": errors,
                    "input_tokens": inp,
                    "cache_read_tokens": 0,
                    "cache_write_tokens": 0,
                    "output_tokens": out,
                    "reasoning_tokens": 0,
                    "cost_usd": Decimal(str(round(inp * PRICE[model][0] + out * PRICE[model][1], 9))),
                }
            )
    return pl.DataFrame(rows).with_columns(pl.col("cost_usd").cast(pl.Decimal(38, 12)))


def test_a_provider_outage_across_teams_is_one_incident_naming_the_provider():
    usage = company(outage=True)
    incidents = build_incidents(detect_usage(usage), usage)
    on_day = incidents.filter(pl.col("day") == START + timedelta(days=EVENT_DAY))
    assert on_day.height == 1
    (incident,) = on_day.to_dicts()
    assert (incident["team"], incident["provider"]) == (SHARED_TEAM, "anthropic")
    assert incident["explanation"].startswith("anthropic: 3 teams moved together")
    assert sorted(t["team"] for t in incident["teams"]) == ["legal", "search", "support"]
    assert "error rate" in incident["explanation"]
    assert len(alerts_from_incidents(on_day)) == 1


def test_simultaneous_cost_spikes_of_two_teams_stay_two_incidents():
    usage = company(bloat_teams=("search", "support"))
    incidents = build_incidents(detect_usage(usage), usage)
    on_day = incidents.filter(pl.col("day") == START + timedelta(days=EVENT_DAY))
    assert sorted(on_day["team"]) == ["search", "support"]
    assert SHARED_TEAM not in on_day["team"].to_list()


def test_the_shared_incident_alert_is_titled_by_provider():
    usage = company(outage=True)
    incidents = build_incidents(detect_usage(usage), usage)
    (alert,) = alerts_from_incidents(incidents.filter(pl.col("team") == SHARED_TEAM))
    assert alert.title.endswith(": anthropic, 3 teams") and alert.team == SHARED_TEAM
