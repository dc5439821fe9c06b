"""Injected anomalies: where they go in the range, and how they bend each stream's traffic per day.

Positions are fractions of the range (so they scale with `days`); day 0 is always normal, so a
detector has at least one baseline day. A one-day range gets no anomalies, and only what was
injected is recorded in truth/anomalies.parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from tokenomics.generator.company import DORMANT, STREAM_INDEX, STREAMS, Stream


@dataclass(frozen=True)
class Placed:
    """One injected anomaly: its kind, where it sits (day indexes, inclusive) and what it touches."""

    kind: str
    first: int
    last: int
    team: str | None
    feature: str | None
    model: str | None
    provider: str | None
    description: str


@dataclass
class Effects:
    """Per-stream, per-day multipliers and overrides, shape (streams, days)."""

    active: np.ndarray
    volume: np.ndarray
    error_rate: np.ndarray
    retries: np.ndarray
    input_mult: np.ndarray
    cache_hit: np.ndarray


# kind, start as a fraction of the range, duration in days (None = until the end)
SCHEDULE: tuple[tuple[str, float, int | None], ...] = (
    ("retry_storm", 0.30, 1),
    ("prompt_bloat", 0.40, 5),
    ("new_team", 0.50, None),
    ("model_switch", 0.55, None),
    ("cache_collapse", 0.65, 4),
    ("outage", 0.80, 1),
)

STORM_STREAM = "support/ticket-triage"
BLOAT_STREAM = "search/answer-gen"
SWITCH_FROM, SWITCH_TO = "growth/email-copy", "growth/email-copy@gpt-4.1"
COLLAPSE_STREAM = "support/reply-draft"
NEW_TEAM = "agents"
OUTAGE_PROVIDER = "anthropic"

STORM_VOLUME, STORM_ERRORS = 3.0, 0.4
BLOAT_FACTOR = 3.5
COLLAPSE_HIT = 0.03
OUTAGE_VOLUME, OUTAGE_ERRORS = 0.4, 0.7


def place(days: int) -> list[Placed]:
    """The anomalies that fit in a range of `days` days, with their day indexes."""
    if days < 2:
        return []
    placed = []
    for kind, frac, duration in SCHEDULE:
        first = min(days - 1, max(1, int(frac * days)))
        last = days - 1 if duration is None else min(days - 1, first + duration - 1)
        placed.append(_describe(kind, first, last))
    return placed


def _describe(kind: str, first: int, last: int) -> Placed:
    if kind == "retry_storm":
        return _on_stream(
            kind,
            first,
            last,
            _stream(STORM_STREAM),
            f"client retry loop: {STORM_VOLUME:g}x requests, {STORM_ERRORS:.0%} errors, attempted_retries 1-3",
        )
    if kind == "prompt_bloat":
        return _on_stream(
            kind,
            first,
            last,
            _stream(BLOAT_STREAM),
            f"prompt template grew: input tokens per request x{BLOAT_FACTOR:g}",
        )
    if kind == "new_team":
        return Placed(
            kind,
            first,
            last,
            NEW_TEAM,
            None,
            None,
            None,
            f"team '{NEW_TEAM}' starts sending traffic (agent-planner on o4-mini, agent-tools on claude-sonnet-4)",
        )
    if kind == "model_switch":
        old, new = _stream(SWITCH_FROM), _stream(SWITCH_TO)
        return _on_stream(
            kind, first, last, new, f"feature moved from {old.spec.name} to the more expensive {new.spec.name}"
        )
    if kind == "cache_collapse":
        s = _stream(COLLAPSE_STREAM)
        return _on_stream(
            kind,
            first,
            last,
            s,
            f"prompt cache hit rate fell from {s.profile.cache_hit:.0%} to {COLLAPSE_HIT:.0%} "
            "(cache writes instead of reads)",
        )
    if kind == "outage":
        return Placed(
            kind,
            first,
            last,
            None,
            None,
            None,
            OUTAGE_PROVIDER,
            f"{OUTAGE_PROVIDER} API outage: traffic x{OUTAGE_VOLUME:g}, {OUTAGE_ERRORS:.0%} of requests fail",
        )
    raise ValueError(kind)


def _stream(name: str) -> Stream:
    return STREAMS[STREAM_INDEX[name]]


def _on_stream(kind: str, first: int, last: int, s: Stream, explanation: str) -> Placed:
    """An anomaly of one stream: the stream's team, feature, model and provider are where it shows."""
    return Placed(kind, first, last, s.team, s.feature, s.spec.name, s.spec.provider, explanation)


def effects(days: int, placed: list[Placed]) -> Effects:
    """Turn placed anomalies into per-stream, per-day multipliers over the base profiles."""
    n = len(STREAMS)
    fx = Effects(
        active=np.ones((n, days), dtype=bool),
        volume=np.ones((n, days)),
        error_rate=np.tile(np.array([s.profile.error_rate for s in STREAMS])[:, None], (1, days)),
        retries=np.zeros((n, days), dtype=bool),
        input_mult=np.ones((n, days)),
        cache_hit=np.tile(np.array([s.profile.cache_hit for s in STREAMS])[:, None], (1, days)),
    )
    for name in DORMANT:
        fx.active[STREAM_INDEX[name], :] = False
    for a in placed:
        span = slice(a.first, a.last + 1)
        if a.kind == "retry_storm":
            i = STREAM_INDEX[STORM_STREAM]
            fx.volume[i, span] *= STORM_VOLUME
            fx.error_rate[i, span] = STORM_ERRORS
            fx.retries[i, span] = True
        elif a.kind == "prompt_bloat":
            fx.input_mult[STREAM_INDEX[BLOAT_STREAM], span] = BLOAT_FACTOR
        elif a.kind == "new_team":
            for i, s in enumerate(STREAMS):
                if s.team == NEW_TEAM:
                    fx.active[i, : a.first] = False
        elif a.kind == "model_switch":
            fx.active[STREAM_INDEX[SWITCH_FROM], span] = False
            fx.active[STREAM_INDEX[SWITCH_TO], span] = True
        elif a.kind == "cache_collapse":
            fx.cache_hit[STREAM_INDEX[COLLAPSE_STREAM], span] = COLLAPSE_HIT
        elif a.kind == "outage":
            for i, s in enumerate(STREAMS):
                if s.spec.provider == OUTAGE_PROVIDER:
                    fx.volume[i, span] *= OUTAGE_VOLUME
                    fx.error_rate[i, span] = OUTAGE_ERRORS
    return fx


def anomalies_frame(placed: list[Placed], start: date) -> pl.DataFrame:
    """truth/anomalies.parquet: one row per injected anomaly, days as dates (end inclusive)."""
    return pl.DataFrame(
        {
            "start_day": [start + timedelta(days=a.first) for a in placed],
            "end_day": [start + timedelta(days=a.last) for a in placed],
            "team": [a.team for a in placed],
            "feature": [a.feature for a in placed],
            "model": [a.model for a in placed],
            "kind": [a.kind for a in placed],
            "description": [a.description for a in placed],
            "provider": [a.provider for a in placed],
        },
        schema={
            "start_day": pl.Date,
            "end_day": pl.Date,
            "team": pl.String,
            "feature": pl.String,
            "model": pl.String,
            "kind": pl.String,
            "description": pl.String,
            "provider": pl.String,
        },
    )
