"""How many requests each stream sends each day: weekday/weekend seasonality, growth, noise, anomalies.

Gateway-visible requests over the whole range add up to exactly `events_per_day * days` (so a
one-day benchmark gets exactly N events); gateway-bypassing requests come on top, in proportion.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from tokenomics.generator.anomalies import Effects
from tokenomics.generator.company import STREAMS

NOISE_SIGMA = 0.08  # day-to-day wobble of each stream's volume


def expected_rates(start: date, days: int, fx: Effects, rng: np.random.Generator) -> np.ndarray:
    """Relative request rate per (stream, day), before drawing integer counts."""
    weekend = np.array([(start + timedelta(days=d)).weekday() >= 5 for d in range(days)])
    rate = np.empty((len(STREAMS), days))
    for i, s in enumerate(STREAMS):
        season = np.where(weekend, s.profile.weekend, 1.0)
        trend = (1.0 + s.profile.growth) ** np.arange(days)
        rate[i] = s.weight * season * trend
    rate *= np.exp(rng.normal(0.0, NOISE_SIGMA, rate.shape))
    return rate * fx.volume * fx.active


def daily_counts(start: date, days: int, events_per_day: int, fx: Effects, rng: np.random.Generator) -> np.ndarray:
    """Integer requests per (stream, day): gateway streams total exactly events_per_day * days."""
    rate = expected_rates(start, days, fx, rng)
    seen = np.array([s.via_gateway for s in STREAMS])
    counts = np.zeros(rate.shape, dtype=np.int64)
    total_seen = events_per_day * days
    counts[seen] = _split(total_seen, rate[seen], rng)
    bypass_total = int(round(total_seen * rate[~seen].sum() / rate[seen].sum()))
    counts[~seen] = _split(bypass_total, rate[~seen], rng)
    return counts


def _split(total: int, rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    p = rate.ravel() / rate.sum()
    return rng.multinomial(total, p).reshape(rate.shape)
