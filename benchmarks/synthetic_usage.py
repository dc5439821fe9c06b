"""A small synthetic company's usage_daily with injected anomalies, to tune and score the detector.

Independent of tokenomics/generator on purpose: the detector is tuned here on seeds 1-5 and judged
on the generator's company (seeds not used here), so the figures are not tuned to one data set.
Shape per (team, feature, model): level x weekday profile x trend x lognormal noise; token mix per
request, cache-hit rate, reasoning share and error rate per feature; cost from per-model prices.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

# $ per 1M tokens: input, cache read, cache write, output (rough public list prices)
PRICES = {
    "gpt-4.1": (2.0, 0.5, 2.0, 8.0),
    "gpt-4.1-mini": (0.4, 0.1, 0.4, 1.6),
    "o3": (2.0, 0.5, 2.0, 8.0),
    "claude-sonnet-4": (3.0, 0.3, 3.75, 15.0),
    "claude-haiku-4": (0.8, 0.08, 1.0, 4.0),
    "gemini-2.5-flash": (0.3, 0.075, 0.3, 2.5),
}
TEAMS = ("support", "search", "growth", "platform", "legal", "data")
FEATURES = ("reply-drafter", "summarizer", "classifier", "extractor", "chat", "rag-answer", "translator")
KINDS = ("spike", "retry_storm", "prompt_bloat", "cache_collapse", "level_shift", "outage", "reasoning_blowup")


def _prices_per_token() -> dict[str, np.ndarray]:
    return {m: np.array(p) / 1e6 for m, p in PRICES.items()}


def synthetic_company(seed: int, days: int = 90, start: date = date(2025, 1, 6), events: int = 16):
    """(usage_daily, injected): usage_daily has the published columns; injected has start_day,
    end_day, team, feature, model, kind."""
    rng = np.random.default_rng(seed)
    models = list(PRICES)
    combos = []
    for team in TEAMS:
        for feature in rng.choice(FEATURES, size=rng.integers(2, 5), replace=False):
            for model in rng.choice(models, size=rng.integers(1, 3), replace=False):
                combos.append((team, str(feature), str(model)))
    n = len(combos)
    t = np.arange(days)
    weekday = np.array([(start + timedelta(days=int(i))).weekday() for i in t])
    weekend_factor = np.where(rng.random(n) < 0.7, rng.uniform(0.25, 0.6, n), 1.0)
    profile = np.where(weekday[None, :] >= 5, weekend_factor[:, None], 1.0)
    level = np.exp(rng.uniform(np.log(100), np.log(30000), n))
    trend = rng.normal(0.0, 0.004, n)
    noise_sigma = rng.uniform(0.05, 0.25, n)
    late = rng.random(n) < 0.15  # cold-start series
    first_day = np.where(late, rng.integers(10, days - 20, n), 0)

    requests = (
        level[:, None]
        * profile
        * np.exp(trend[:, None] * t[None, :])
        * np.exp(rng.normal(0, 1, (n, days)) * noise_sigma[:, None])
    )
    requests = np.where(t[None, :] >= first_day[:, None], requests, 0.0)
    in_per_req = np.exp(rng.uniform(np.log(400), np.log(6000), n))[:, None] * np.exp(rng.normal(0, 0.03, (n, days)))
    out_per_req = np.exp(rng.uniform(np.log(80), np.log(900), n))[:, None] * np.exp(rng.normal(0, 0.03, (n, days)))
    cache_rate = np.where(rng.random(n) < 0.5, rng.uniform(0.3, 0.8, n), rng.uniform(0.0, 0.1, n))[:, None] + np.zeros(
        (1, days)
    )
    cache_rate = np.clip(cache_rate + rng.normal(0, 0.02, (n, days)), 0, 0.95)
    is_reasoning = np.array([m == "o3" for _, _, m in combos])
    reasoning_share = np.where(is_reasoning, rng.uniform(0.3, 0.6, n), 0.0)[:, None] + np.zeros((1, days))
    error_rate = rng.uniform(0.003, 0.02, n)[:, None] + np.zeros((1, days))

    injected = []
    used: set[int] = set()
    for _ in range(events):
        kind = str(rng.choice(KINDS))
        s0 = int(rng.integers(30, days - 3))
        candidates = [i for i in range(n) if first_day[i] < s0 - 28 and i not in used]
        if kind == "cache_collapse":
            candidates = [i for i in candidates if cache_rate[i, s0] > 0.3]
        if kind == "reasoning_blowup":
            candidates = [i for i in candidates if is_reasoning[i]]
        # big enough to matter: at least ~$5/day before the event
        candidates = [
            i
            for i in candidates
            if _day_cost(
                combos[i][2], requests[i, s0 - 7 : s0].mean(), in_per_req[i, 0], out_per_req[i, 0], cache_rate[i, 0]
            )
            > 5
        ]
        if not candidates:
            continue
        i = int(rng.choice(candidates))
        used.add(i)
        length = {"spike": rng.integers(1, 3), "retry_storm": rng.integers(1, 3), "outage": 1}.get(
            kind, rng.integers(3, 8)
        )
        s1 = days - 1 if kind == "level_shift" else min(days - 1, s0 + int(length) - 1)
        win = slice(s0, s1 + 1)
        if kind == "spike":
            requests[i, win] *= rng.uniform(3, 8)
        elif kind == "retry_storm":
            requests[i, win] *= rng.uniform(2, 4)
            error_rate[i, win] = rng.uniform(0.3, 0.6)
        elif kind == "prompt_bloat":
            in_per_req[i, win] *= rng.uniform(3, 6)
        elif kind == "cache_collapse":
            cache_rate[i, win] = rng.uniform(0.0, 0.03)
        elif kind == "level_shift":
            requests[i, win] *= rng.uniform(2, 3)
        elif kind == "outage":
            requests[i, win] *= 0.0
        elif kind == "reasoning_blowup":
            reasoning_share[i, win] = rng.uniform(0.85, 0.95)
            out_per_req[i, win] *= rng.uniform(3, 6)
        team, feature, model = combos[i]
        injected.append(
            {
                "start_day": start + timedelta(days=s0),
                "end_day": start + timedelta(days=s1),
                "team": team,
                "feature": feature,
                "model": model,
                "kind": kind,
            }
        )

    req = np.round(requests).astype(np.int64)
    for i in np.flatnonzero(late):
        # a team starting to use a model for a feature is a real change when it moves the feature's
        # spend (at least 30% of what the feature spent the week before)
        team, feature, model = combos[i]
        s0 = int(first_day[i])
        same_feature = [j for j, c in enumerate(combos) if c[:2] == (team, feature) and j != i and first_day[j] < s0]
        before = sum(
            _day_cost(
                combos[j][2],
                requests[j, max(0, s0 - 7) : s0].mean(),
                in_per_req[j, 0],
                out_per_req[j, 0],
                cache_rate[j, 0],
            )
            for j in same_feature
        )
        new = _day_cost(model, requests[i, s0 : s0 + 7].mean(), in_per_req[i, 0], out_per_req[i, 0], cache_rate[i, 0])
        if new < 0.3 * before or new < 5:
            continue
        injected.append(
            {
                "start_day": start + timedelta(days=s0),
                "end_day": start + timedelta(days=s0 + 2),
                "team": team,
                "feature": feature,
                "model": model,
                "kind": "new_model",
            }
        )

    req = np.round(requests).astype(np.int64)
    inp = np.round(req * in_per_req).astype(np.int64)
    cread = np.round(inp * cache_rate).astype(np.int64)
    cwrite = np.round(inp * 0.02 * (cache_rate > 0.2)).astype(np.int64)
    out = np.round(req * out_per_req).astype(np.int64)
    reas = np.round(out * reasoning_share).astype(np.int64)
    errors = np.round(req * error_rate).astype(np.int64)
    prices = _prices_per_token()
    p = np.stack([prices[m] for _, _, m in combos])  # n x 4
    cost = (inp - cread - cwrite) * p[:, [0]] + cread * p[:, [1]] + cwrite * p[:, [2]] + out * p[:, [3]]

    rows = {
        "team": np.repeat([c[0] for c in combos], days),
        "feature": np.repeat([c[1] for c in combos], days),
        "model": np.repeat([c[2] for c in combos], days),
        "day": np.tile(np.datetime64(start, "D") + t.astype("timedelta64[D]"), n),
    }
    frame = pl.DataFrame(rows).with_columns(
        pl.lit("openai").alias("provider"),
        pl.Series("requests", req.ravel()),
        pl.Series("errors", errors.ravel()),
        pl.Series("input_tokens", inp.ravel()),
        pl.Series("cache_read_tokens", cread.ravel()),
        pl.Series("cache_write_tokens", cwrite.ravel()),
        pl.Series("output_tokens", out.ravel()),
        pl.Series("reasoning_tokens", reas.ravel()),
        pl.Series("cost_usd", np.round(cost.ravel(), 9)).cast(pl.Decimal(38, 12)),
    )
    frame = frame.filter(pl.col("requests") > 0)
    return frame, pl.DataFrame(
        injected,
        schema={
            "start_day": pl.Date,
            "end_day": pl.Date,
            "team": pl.String,
            "feature": pl.String,
            "model": pl.String,
            "kind": pl.String,
        },
    )


def _day_cost(model: str, requests: float, in_per_req: float, out_per_req: float, cache_rate: float) -> float:
    p = _prices_per_token()[model]
    return requests * (in_per_req * ((1 - cache_rate) * p[0] + cache_rate * p[1]) + out_per_req * p[3])
