"""Daily series the detector was never tuned on, with labelled events, and an episode-level score.

A different process from benchmarks/synthetic_usage.py (lognormal noise, weekday x trend) and from
tokenomics/generator, on purpose (issue 10, point 8):
* noise: AR(1) on the log scale with Student-t innovations (df 3-6: fat tails, autocorrelation);
* seasonality: a random weekly profile (any two days low or high, not only weekends), a
  month-end bump, and a slow trend that can change sign once;
* shapes: some series start cold (first value after day 10-60), some are intermittent (zero-inflated
  Poisson counts, mostly zeros), levels from cents to thousands;
* events: spikes of 1-3 days (x2.5-8), drops of 1-3 days (x0.03-0.35), level shifts up or down
  that persist, ramps that grow over 4-7 days; at most one event per series, after day 45.

    python benchmarks/independent_series.py                  # tuning union: seeds 11-25, 31-80
    python benchmarks/independent_series.py --held-out       # once, after freezing: seeds 81-100
    python benchmarks/independent_series.py --seeds 101 102  # any other seeds

Every seed from 11 to 80 has been seen, so all of them are tuning data now: 11-15 (the tuning set of
rounds one and two), 16-20 (extra tuning seeds), 21-25 (held out in round one, scored once after it
was frozen on 2026-12-04, seen since), 31-40 (held out in round two, scored once after it was
frozen, seen since), 41-60 (held out in round three, scored once after it was frozen on
2026-12-05, seen since) and 61-80 (held out in round four, scored once after it was frozen on
2026-12-05, seen since). The default run scores each of these sets and their union. Seeds 81-100 are
the held-out set of any next round, declared before any change of that round: score them only once
the detector is frozen, and never use them to choose a knob.

Score, per event and per detector episode (an episode = consecutive flagged days, by episode_id):
an event is found when its series is flagged on a day in [start, start + 2] (a ramp: any day while
it grows); an episode is true
when it overlaps [start - 1, end + 3] of an event of its series (a level shift's end = its start + 7),
false otherwise. Precision = true episodes / all episodes.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

START = date(2024, 1, 1)
TUNING_SEEDS = (11, 12, 13, 14, 15)
EXTRA_TUNING_SEEDS = (16, 17, 18, 19, 20)
SEEN_HELD_OUT_SEEDS = (21, 22, 23, 24, 25)  # held out in round one, seen since
SEEN_HELD_OUT_2_SEEDS = tuple(range(31, 41))  # held out in round two, seen since
SEEN_HELD_OUT_3_SEEDS = tuple(range(41, 61))  # held out in round three, seen since
SEEN_HELD_OUT_4_SEEDS = tuple(range(61, 81))  # held out in round four, seen since
HELD_OUT_SEEDS = tuple(range(81, 101))  # the next round: declared before any change of that round
EVENT_KINDS = ("spike", "drop", "level_shift", "ramp")


def independent_series(seed: int, n_series: int = 80, days: int = 150) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(series: day, series, value; events: series, start_day, end_day, kind)."""
    rng = np.random.default_rng(seed)
    rows, events = [], []
    for i in range(n_series):
        name = f"s{seed}-{i:03d}"
        intermittent = rng.random() < 0.15
        first = int(rng.integers(10, 61)) if rng.random() < 0.3 else 0
        t = np.arange(days)
        weekly = np.ones(7)
        for d in rng.choice(7, size=2, replace=False):
            weekly[d] = rng.uniform(0.35, 1.5)
        season = weekly[(t + int(rng.integers(0, 7))) % 7] * (1 + 0.1 * rng.uniform(-1, 1) * ((t % 30) >= 27))
        slope = rng.normal(0, 0.004)
        turn = int(rng.integers(40, days))
        trend = np.exp(np.where(t < turn, slope * t, slope * turn - slope * (t - turn)))
        level = float(np.exp(rng.uniform(np.log(0.5), np.log(5000))))
        if intermittent:
            level = float(rng.uniform(0.3, 4))
        multiplier = np.ones(days)
        event = None
        if rng.random() < 0.5 and days - 10 > max(45, first + 21):
            kind = EVENT_KINDS[int(rng.integers(0, 4))] if not intermittent else "spike"
            start = int(rng.integers(max(45, first + 21), days - 10))
            if kind == "spike":
                length = int(rng.integers(1, 4))
                multiplier[start : start + length] = rng.uniform(2.5, 8) * (3 if intermittent else 1)
                end = start + length - 1
            elif kind == "drop":
                length = int(rng.integers(1, 4))
                multiplier[start : start + length] = rng.uniform(0.03, 0.35)
                end = start + length - 1
            elif kind == "level_shift":
                multiplier[start:] = rng.uniform(2, 4) if rng.random() < 0.5 else rng.uniform(0.25, 0.5)
                end = start + 7
            else:  # ramp
                length = int(rng.integers(4, 8))
                top = rng.uniform(2.5, 5)
                multiplier[start : start + length] = np.linspace(1.3, top, length)
                multiplier[start + length :] = top
                end = start + length
            event = (name, START + timedelta(days=start), START + timedelta(days=end), kind)
        if intermittent:
            lam = level * season * trend * multiplier
            values = rng.poisson(lam) * (rng.random(days) > 0.3)
            values = values.astype(float)
        else:
            sigma, phi, df = rng.uniform(0.04, 0.3), rng.uniform(0.2, 0.7), int(rng.integers(3, 7))
            shocks = rng.standard_t(df, size=days) * sigma / np.sqrt(df / (df - 2))
            ar = np.zeros(days)
            for k in range(1, days):  # a few hundred steps per series: generation, not the detector
                ar[k] = phi * ar[k - 1] + shocks[k]
            values = level * season * trend * multiplier * np.exp(ar)
        for d in range(first, days):
            rows.append((START + timedelta(days=d), name, round(float(values[d]), 4)))
        if event is not None:
            events.append(event)
    series = pl.DataFrame(rows, schema={"day": pl.Date, "series": pl.String, "value": pl.Float64}, orient="row")
    labelled = pl.DataFrame(
        events, schema={"series": pl.String, "start_day": pl.Date, "end_day": pl.Date, "kind": pl.String}, orient="row"
    )
    return series, labelled


def score(detections: pl.DataFrame, events: pl.DataFrame, detect_days: int = 2, after_days: int = 3) -> dict:
    """Event recall and episode precision (see the module docstring)."""
    flagged = detections.filter(pl.col("is_anomaly"))
    episodes = flagged.group_by("series", "episode_id").agg(
        pl.col("day").min().alias("first"), pl.col("day").max().alias("last")
    )
    ev = events.to_dicts()
    by_series: dict[str, list[dict]] = {}
    for e in ev:
        by_series.setdefault(e["series"], []).append(e)
    found = 0
    flagged_days = flagged.group_by("series").agg(pl.col("day"))
    days_of = {r["series"]: set(r["day"]) for r in flagged_days.iter_rows(named=True)}
    for e in ev:
        # a ramp is gradual: finding it anywhere while it grows counts
        reach = (e["end_day"] - e["start_day"]).days if e["kind"] == "ramp" else detect_days
        window = {e["start_day"] + timedelta(days=k) for k in range(reach + 1)}
        found += bool(days_of.get(e["series"], set()) & window)
    true_episodes = 0
    for ep in episodes.iter_rows(named=True):
        true_episodes += any(
            ep["first"] <= e["end_day"] + timedelta(days=after_days)
            and ep["last"] >= e["start_day"] - timedelta(days=1)
            for e in by_series.get(ep["series"], [])
        )
    n_ep = episodes.height
    return {
        "events": len(ev),
        "found": found,
        "recall": round(found / len(ev), 3) if ev else 1.0,
        "episodes": n_ep,
        "true_episodes": true_episodes,
        "precision": round(true_episodes / n_ep, 3) if n_ep else 1.0,
        "false_episodes": n_ep - true_episodes,
    }


def main(argv: list[str] | None = None) -> int:
    from tokenomics.anomalies.detector import DetectorParams, detect

    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"Tuning seeds (all seen): {list(TUNING_SEEDS + EXTRA_TUNING_SEEDS + SEEN_HELD_OUT_SEEDS)} and "
        f"{list(SEEN_HELD_OUT_2_SEEDS)}, {list(SEEN_HELD_OUT_3_SEEDS)} and {list(SEEN_HELD_OUT_4_SEEDS)}; held-out seeds (score once, after freezing; never used for tuning): "
        f"{list(HELD_OUT_SEEDS)}.",
    )
    ap.add_argument("--seeds", type=int, nargs="+", help="score these seeds instead of the tuning sets")
    ap.add_argument("--held-out", action="store_true", help="score the held-out set 81-100 (only a frozen detector)")
    args = ap.parse_args(argv)
    if args.seeds:
        sets = {"seeds": args.seeds}
    elif args.held_out:
        sets = {"held-out (next round)": list(HELD_OUT_SEEDS)}
    else:
        sets = {
            "tuning": list(TUNING_SEEDS),
            "extra tuning": list(EXTRA_TUNING_SEEDS),
            "seen held-out (round one)": list(SEEN_HELD_OUT_SEEDS),
            "seen held-out (round two)": list(SEEN_HELD_OUT_2_SEEDS),
            "seen held-out (round three)": list(SEEN_HELD_OUT_3_SEEDS),
            "seen held-out (round four)": list(SEEN_HELD_OUT_4_SEEDS),
        }
    totals = []
    for name, seeds in sets.items():
        print(f"{name} seeds {seeds}")
        table = score_seeds(seeds, detect, DetectorParams(min_abs_impact=0))  # unit-free: no dollar gate
        totals.append(table.filter(pl.col("seed") == -1))
        with pl.Config(tbl_rows=50, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
            print(table)
    if len(totals) > 1:
        union = pl.concat(totals)
        found, events = int(union["found"].sum()), int(union["events"].sum())
        true_ep, episodes = int(union["true_episodes"].sum()), int(union["episodes"].sum())
        print(
            f"union of {', '.join(sets)}: recall {found}/{events}={found / events:.3f}, "
            f"precision {true_ep}/{episodes}={true_ep / max(episodes, 1):.3f}"
        )
    return 0


def score_seeds(seeds: list[int], detect, params) -> pl.DataFrame:
    """One row per seed and a total row (seed -1)."""
    rows = []
    for seed in seeds:
        series, events = independent_series(seed)
        rows.append({"seed": seed, **score(detect(series, params), events)})
    table = pl.DataFrame(rows)
    total = {
        "seed": -1,
        **{c: int(table[c].sum()) for c in ("events", "found", "episodes", "true_episodes", "false_episodes")},
    }
    total["recall"] = round(total["found"] / total["events"], 3)
    total["precision"] = round(total["true_episodes"] / total["episodes"], 3) if total["episodes"] else 1.0
    return pl.concat([table, pl.DataFrame([total], schema=table.schema)])


if __name__ == "__main__":
    raise SystemExit(main())
