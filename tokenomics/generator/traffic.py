"""One day of requests, vectorized: times, conversations, tokens, caching, reasoning, batch, errors, retries.

Python loops only run per stream (a few dozen), never per request. The result is one frame with a row
per request, every stream's attributes joined on, ready for the log writers and the truth tables.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import numpy as np
import polars as pl

from tokenomics.generator.anomalies import Effects
from tokenomics.generator.catalog import BATCH_DISCOUNT, UnitPrices, unit_prices
from tokenomics.generator.company import DIURNAL, KEYS, STREAMS, Stream
from tokenomics.generator.config_file import attribute
from tokenomics.generator.ids import unique_hex

DAY_US = 86_400_000_000
MAX_TURNS = 30
MAX_INPUT = 150_000  # stay below long-context price tiers
CACHE_STYLES = {"none": 0, "openai": 1, "anthropic": 2, "implicit": 3}
MIN_CACHEABLE = 1024  # OpenAI and Gemini only cache prompts of at least this many tokens
END_USERS = 50_000
_NO_PRICE = UnitPrices(input=Decimal(0), cache_read=Decimal(0), cache_write=Decimal(0), output=Decimal(0))


def _hour_probs(name: str) -> np.ndarray:
    weights = np.array(DIURNAL[name], dtype=float)
    return weights / weights.sum()


def stream_table() -> pl.DataFrame:
    """Per-stream attributes the writers and the truth need, keyed by stream index."""
    rows = []
    for i, s in enumerate(STREAMS):
        team, feature = attribute(s)
        key = KEYS.get(s.key) if s.key else None
        rows.append(
            {
                "stream": i,
                "stream_name": s.name,
                "channel": s.channel,
                "via_gateway": s.via_gateway,
                "truth_team": team,
                "truth_feature": feature,
                "real_team": s.team,
                "real_feature": s.feature,
                "model_key": s.model,
                "model": s.spec.name,
                "provider": s.spec.provider,
                "litellm_provider": s.spec.litellm_provider,
                "otel_provider": s.spec.otel_provider,
                "otel_system": s.spec.otel_system,
                "model_group": s.spec.model_group,
                "deployment_id": hashlib.sha256(f"{s.model}@{key.deployment if key else ''}".encode()).hexdigest(),
                "api_base": s.spec.api_base,
                "cache_style": s.spec.cache_style,
                "kind": s.spec.kind,
                "deployment": key.deployment if key else None,
                "key_alias": key.alias if key else None,
                "key_hash": key.hashed if key else None,
                "key_user": key.user if key else None,
                "team_id": key.team_id if key else None,
                "team_alias": key.team_alias if key else None,
                "requester_ip": key.ip if key else None,
                "request_tags": json.dumps(list(s.tags)),
                "service": s.service,
                "span_labels": json.dumps(s.span_labels),
                "content_share": s.profile.content_share,
                "account": s.account,
                "multi_turn": s.profile.turns > 0,
            }
        )
    return pl.DataFrame(rows).with_columns(pl.col("stream").cast(pl.Int32))


def _session_layout(s: Stream, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(turn, session) for n requests of a conversational stream: sessions of geometric length."""
    lengths = np.minimum(rng.geometric(1.0 / s.profile.turns, size=n), MAX_TURNS)
    ends = np.cumsum(lengths)
    k = int(np.searchsorted(ends, n)) + 1
    lengths = lengths[:k].copy()
    lengths[-1] -= ends[k - 1] - n
    session = np.repeat(np.arange(k), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    turn = np.arange(n) - np.repeat(starts, lengths)
    return turn, session


def _seconds_of_day(probs: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    hours = rng.choice(24, size=n, p=probs)
    return hours * 3600.0 + rng.random(n) * 3600.0


def _per_stream(stream: np.ndarray, attr: str) -> np.ndarray:
    """A profile attribute of every request's stream."""
    return np.array([getattr(s.profile, attr) for s in STREAMS], dtype=float)[stream]


def _timeline(counts: np.ndarray, batch: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """When each request happens (seconds into the day) and its place in a conversation.

    Conversational streams get sessions whose turns follow each other 15-90 s apart; batch requests
    of interactive streams run at night, like the nightly jobs.
    """
    n = int(counts.sum())
    offsets = np.concatenate([[0], np.cumsum(counts)])
    out = {
        "seconds": np.empty(n),
        "turn": np.zeros(n, dtype=np.int64),
        "session": np.full(n, -1, dtype=np.int64),
        "end_user": np.full(n, -1, dtype=np.int64),
    }
    night = _hour_probs("night")
    next_session = 0
    for i, s in enumerate(STREAMS):
        lo, hi = offsets[i], offsets[i + 1]
        if hi == lo:
            continue
        probs = _hour_probs(s.profile.diurnal)
        if s.profile.turns > 0:
            turn, sess = _session_layout(s, hi - lo, rng)
            k = int(sess[-1]) + 1
            gap = rng.uniform(15.0, 90.0, size=k)
            latest = 86_400.0 - 600.0 - np.bincount(sess, minlength=k) * gap
            begin = np.minimum(_seconds_of_day(probs, k, rng), latest)
            out["seconds"][lo:hi] = begin[sess] + turn * gap[sess] + rng.random(hi - lo) * 5.0
            out["turn"][lo:hi] = turn
            out["session"][lo:hi] = sess + next_session
            out["end_user"][lo:hi] = rng.integers(0, END_USERS, size=k)[sess]
            next_session += k
        else:
            out["seconds"][lo:hi] = _seconds_of_day(probs, hi - lo, rng)
            in_batch = batch[lo:hi]
            if in_batch.any() and s.profile.diurnal != "night":
                out["seconds"][lo:hi][in_batch] = _seconds_of_day(night, int(in_batch.sum()), rng)
    return out


def _tokens(
    stream: np.ndarray, turn: np.ndarray, day_index: int, fx: Effects, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Inclusive token counts: a cacheable prefix (system prompt + earlier turns) plus a fresh tail;
    cache reads/writes per the model's caching style; reasoning inside the output."""
    n = stream.size
    mult = fx.input_mult[stream, day_index]
    tail = np.exp(rng.normal(np.log(_per_stream(stream, "tail")), _per_stream(stream, "tail_sigma"))) * mult
    cacheable = np.round((_per_stream(stream, "prefix") + turn * _per_stream(stream, "turn_growth")) * mult)
    cacheable = cacheable.astype(np.int64)
    input_tokens = np.minimum(cacheable + np.maximum(np.round(tail).astype(np.int64), 1), MAX_INPUT)
    cacheable = np.minimum(cacheable, input_tokens - 1)
    style = np.array([CACHE_STYLES[s.spec.cache_style] for s in STREAMS])[stream]
    hit = (rng.random(n) < fx.cache_hit[stream, day_index]) & (cacheable > 0)
    writes_on_miss = rng.random(n) < 0.85
    big_enough = cacheable >= MIN_CACHEABLE
    cache_read = (
        np.select(
            [style == 2, (style == 1) & big_enough, (style == 3) & big_enough],
            [cacheable, cacheable // 128 * 128, cacheable],
            0,
        )
        * hit
    )
    # Anthropic-style: a miss writes the prefix; a hit in a conversation writes the new turn
    cache_write = np.where(
        style == 2,
        np.where(hit, np.where(turn > 0, input_tokens - cacheable, 0), np.where(writes_on_miss, cacheable, 0)),
        0,
    )
    embedding = np.array([s.spec.kind == "embedding" for s in STREAMS])[stream]
    visible = np.maximum(
        np.round(
            np.exp(
                rng.normal(np.log(np.maximum(_per_stream(stream, "output"), 1)), _per_stream(stream, "output_sigma"))
            )
        ),
        1,
    )
    visible = np.where(embedding, 0, visible).astype(np.int64)
    ratio = _per_stream(stream, "reasoning")
    reasoning = np.where(ratio > 0, np.round(visible * ratio * np.exp(rng.normal(0.0, 0.5, n))), 0).astype(np.int64)
    return {
        "input_tokens": input_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": visible + reasoning,
        "reasoning_tokens": reasoning,
        "embedding": embedding,
    }


def simulate_day(
    day: date, day_index: int, counts: np.ndarray, fx: Effects, rng: np.random.Generator, first: int = 0
) -> pl.DataFrame:
    """All requests of one day (gateway-visible and bypass), one row each, grouped by stream.

    `first` numbers the request ids on when a big day is simulated in slices (see generator.SLICE_REQUESTS)."""
    stream = np.repeat(np.arange(len(STREAMS), dtype=np.int32), counts)
    n = stream.size
    batch = rng.random(n) < _per_stream(stream, "batch")
    when = _timeline(counts, batch, rng)
    tokens = _tokens(stream, when["turn"], day_index, fx, rng)
    embedding = tokens.pop("embedding")

    ok = rng.random(n) >= fx.error_rate[stream, day_index]
    tokens = {name: np.where(ok, values, 0) for name, values in tokens.items()}  # failures carry no usage
    retries = np.where(
        fx.retries[stream, day_index], rng.integers(1, 4, size=n), (rng.random(n) < 0.004).astype(np.int64)
    )

    latency_ms = np.where(
        embedding,
        40 + tokens["input_tokens"] // 50,
        250 + tokens["output_tokens"] * rng.uniform(8.0, 20.0, size=n),
    ).astype(np.int64)
    latency_ms = np.where(ok, latency_ms, rng.integers(50, 2000, size=n))
    ttft_ms = np.minimum(latency_ms, 120 + tokens["input_tokens"] // 20)
    # the request must end inside its UTC day
    start_us = np.minimum((when["seconds"] * 1e6).astype(np.int64), DAY_US - latency_ms * 1000 - 1)

    return pl.DataFrame(
        {
            "stream": stream,
            "uid": unique_hex(rng, day_index, n, first),
            "start_us": np.maximum(start_us, 0),
            "latency_ms": latency_ms,
            "ttft_ms": ttft_ms,
            "ok": ok,
            "is_batch": batch,
            "turn": when["turn"],
            "session": when["session"],
            "end_user": when["end_user"],
            "retries": retries,
            **tokens,
            "spend": _catalog_cost(day, stream, tokens, batch),
            "content_roll": rng.random(n),
        }
    )


def _catalog_cost(day: date, stream: np.ndarray, tokens: dict[str, np.ndarray], batch: np.ndarray) -> np.ndarray:
    """List-price cost per request (float USD, as LiteLLM logs it); batch requests at half price.
    A model LiteLLM's price map does not know is logged at 0 spend."""
    prices = [unit_prices(s.model, day) if s.spec.in_catalog else _NO_PRICE for s in STREAMS]

    def per_token(kind: str) -> np.ndarray:
        return np.array([float(getattr(p, kind)) for p in prices])[stream]

    read, write = tokens["cache_read_tokens"], tokens["cache_write_tokens"]
    uncached = tokens["input_tokens"] - read - write
    cost = (
        uncached * per_token("input")
        + read * per_token("cache_read")
        + write * per_token("cache_write")
        + tokens["output_tokens"] * per_token("output")
    )
    return np.where(batch, cost * float(BATCH_DISCOUNT), cost)
