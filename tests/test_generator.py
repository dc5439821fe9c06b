"""The synthetic company generator: deterministic, self-consistent, anomalies injected, no secrets or bodies."""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml

from tokenomics.generator import generate
from tokenomics.generator.anomalies import place
from tokenomics.generator.otel_files import BODY_MARKER
from tokenomics.providers import PROVIDER_ALIASES

START = date(2026, 3, 2)
DAYS = 2
EVENTS = 2_000
SEED = 5
TOKENS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    generate(root, START, DAYS, EVENTS, SEED)
    return root


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- a deliberately independent, minimal reading of the written files -------------------------------


def _attribute(rules: list[dict], hints: dict) -> str:
    for rule in rules:
        if rule["field"] == "label":
            values = [hints["label"][rule["key"]]] if rule["key"] in hints.get("label", {}) else []
        else:
            values = hints.get(rule["field"], [])
        for v in values:
            if "map" in rule and v in rule["map"]:
                return rule["map"][v]
            if "pattern" in rule and fnmatch.fnmatchcase(v, rule["pattern"]):
                return rule["value"]
            if "prefix" in rule and "pattern" not in rule and v.startswith(rule["prefix"]):
                return v[len(rule["prefix"]) :]
            if rule["field"] == "label" and set(rule) == {"field", "key"}:
                return v
    return "unattributed"


def _litellm_events(home: Path) -> list[dict]:
    rows = []
    for path in sorted((home / "landing" / "litellm").rglob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines()]
    for path in sorted((home / "landing" / "litellm").rglob("*.csv")):
        with path.open(newline="") as fh:
            rows += list(csv.DictReader(fh))
    events = []
    for r in rows:
        meta = json.loads(r["metadata"])
        usage = meta["usage_object"] or {}
        anthropic = usage.get("cache_read_input_tokens") is not None
        ok = r["status"] == "success"
        events.append(
            {
                "id": r["request_id"],
                "start": r["startTime"],
                "end": r["endTime"],
                "ok": ok,
                "provider": PROVIDER_ALIASES[r["custom_llm_provider"]],
                "model": r["model"],
                "input_tokens": int(r["prompt_tokens"]),
                "cache_read_tokens": (
                    usage.get("cache_read_input_tokens")
                    if anthropic
                    else (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
                )
                or 0,
                "cache_write_tokens": (usage.get("cache_creation_input_tokens") if anthropic else 0) or 0,
                "output_tokens": int(r["completion_tokens"]),
                "reasoning_tokens": (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0,
                "hints": {
                    "gateway_team": [v for v in (r["team_id"], meta["user_api_key_team_alias"]) if v],
                    "key_alias": [meta["user_api_key_alias"]],
                    "tag": json.loads(r["request_tags"]),
                },
                "raw": r,
            }
        )
    return events


def _value(v: dict):
    if "intValue" in v:
        return int(v["intValue"])
    return next(iter(v.values()))


def _otel_events(home: Path) -> list[dict]:
    events = []
    for path in sorted((home / "landing" / "otel").rglob("*.jsonl")):
        for line in path.read_text().splitlines():
            for rs in json.loads(line)["resourceSpans"]:
                resource = {a["key"]: _value(a["value"]) for a in rs["resource"]["attributes"]}
                for ss in rs["scopeSpans"]:
                    for span in ss["spans"]:
                        a = {x["key"]: _value(x["value"]) for x in span["attributes"]}
                        events.append(
                            {
                                "id": a["gen_ai.response.id"],
                                "start_ns": int(span["startTimeUnixNano"]),
                                "end_ns": int(span["endTimeUnixNano"]),
                                "ok": span["status"].get("code") != 2,
                                "provider": PROVIDER_ALIASES[a.get("gen_ai.provider.name") or a["gen_ai.system"]],
                                "model": a["gen_ai.request.model"],
                                "input_tokens": a.get(
                                    "gen_ai.usage.input_tokens", a.get("gen_ai.usage.prompt_tokens", 0)
                                ),
                                "cache_read_tokens": a.get("gen_ai.usage.cache_read.input_tokens", 0),
                                "cache_write_tokens": a.get("gen_ai.usage.cache_creation.input_tokens", 0),
                                "output_tokens": a.get(
                                    "gen_ai.usage.output_tokens", a.get("gen_ai.usage.completion_tokens", 0)
                                ),
                                "reasoning_tokens": a.get("gen_ai.usage.reasoning.output_tokens", 0),
                                "hints": {"label": {**resource, **a}},
                                "attributes": a,
                            }
                        )
    return events


@pytest.fixture(scope="module")
def parsed(home):
    return _litellm_events(home), _otel_events(home)


# --- tests -------------------------------------------------------------------------------------------


def test_same_seed_writes_identical_bytes(home, tmp_path):
    generate(tmp_path / "again", START, DAYS, EVENTS, SEED)
    assert _digests(tmp_path / "again") == _digests(home)


def test_other_seed_writes_other_logs(home, tmp_path):
    generate(tmp_path / "other", START, DAYS, EVENTS, SEED + 1)
    other, same = _digests(tmp_path / "other"), _digests(home)
    assert other["tokenomics.yaml"] == same["tokenomics.yaml"]
    assert other["truth/usage_daily.parquet"] != same["truth/usage_daily.parquet"]


def test_gateway_requests_total_exactly_events_per_day(home):
    truth = pl.read_parquet(home / "truth" / "usage_daily.parquet")
    assert truth.filter(pl.col("via_gateway"))["requests"].sum() == DAYS * EVENTS
    assert truth.filter(~pl.col("via_gateway"))["requests"].sum() > 0


def test_truth_equals_what_the_files_say_under_the_config_rules(home, parsed):
    rules = yaml.safe_load((home / "tokenomics.yaml").read_text())["attribution"]
    litellm, otel = parsed
    got: dict[tuple, Counter] = defaultdict(Counter)
    for e in litellm:
        day = e["start"][:10]
        key = (
            day,
            _attribute(rules["team"], e["hints"]),
            _attribute(rules["feature"], e["hints"]),
            e["provider"],
            e["model"],
        )
        got[key].update({"requests": 1, "errors": 0 if e["ok"] else 1, **{t: e[t] for t in TOKENS}})
    for e in otel:
        day = str(datetime.fromtimestamp(e["start_ns"] / 1e9, timezone.utc).date())
        key = (
            day,
            _attribute(rules["team"], e["hints"]),
            _attribute(rules["feature"], e["hints"]),
            e["provider"],
            e["model"],
        )
        got[key].update({"requests": 1, "errors": 0 if e["ok"] else 1, **{t: e[t] for t in TOKENS}})
    truth = pl.read_parquet(home / "truth" / "usage_daily.parquet").filter(pl.col("via_gateway"))
    want = {
        (str(r["day"]), r["team"], r["feature"], r["provider"], r["model"]): {
            c: r[c] for c in ["requests", "errors", *TOKENS]
        }
        for r in truth.iter_rows(named=True)
    }
    assert {k: {c: v.get(c, 0) for c in ["requests", "errors", *TOKENS]} for k, v in got.items()} == want


def test_token_subsets_never_exceed_their_totals(home, parsed):
    truth = pl.read_parquet(home / "truth" / "usage_daily.parquet")
    assert (
        truth.filter(
            (pl.col("cache_read_tokens") + pl.col("cache_write_tokens") > pl.col("input_tokens"))
            | (pl.col("reasoning_tokens") > pl.col("output_tokens"))
        ).height
        == 0
    )
    for e in parsed[0] + parsed[1]:
        assert e["cache_read_tokens"] + e["cache_write_tokens"] <= e["input_tokens"]
        assert e["reasoning_tokens"] <= e["output_tokens"]
    assert truth["cache_write_tokens"].sum() > 0 and truth["reasoning_tokens"].sum() > 0


def test_anthropic_prompt_tokens_include_cache_reads_and_writes(parsed):
    rows = [e for e in parsed[0] if e["provider"] == "anthropic" and e["cache_read_tokens"] and e["ok"]]
    assert rows
    for e in rows:
        usage = json.loads(e["raw"]["metadata"])["usage_object"]
        assert int(e["raw"]["prompt_tokens"]) == usage["prompt_tokens"]
        assert usage["prompt_tokens"] >= usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
        assert int(e["raw"]["total_tokens"]) == usage["prompt_tokens"] + usage["completion_tokens"]


def test_request_ids_unique_across_sources_and_days(parsed):
    ids = [e["id"] for e in parsed[0]] + [e["id"] for e in parsed[1]]
    assert len(ids) == len(set(ids)) == DAYS * EVENTS


def test_every_timestamp_inside_its_utc_day(home, parsed):
    for e in parsed[0]:
        assert e["start"][:10] == e["end"][:10] and e["start"] <= e["end"]
    for e in parsed[1]:
        start = datetime.fromtimestamp(e["start_ns"] / 1e9, timezone.utc)
        end = datetime.fromtimestamp(e["end_ns"] / 1e9, timezone.utc)
        assert start.date() == end.date() and start <= end
    for day_dir in (home / "landing" / "otel").iterdir():
        for e in _otel_events_in(day_dir):
            assert str(datetime.fromtimestamp(e // 10**9, timezone.utc).date()) == day_dir.name


def _otel_events_in(day_dir: Path):
    for path in day_dir.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            for rs in json.loads(line)["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    for span in ss["spans"]:
                        yield int(span["startTimeUnixNano"])


def test_anomalies_are_recorded_and_visible_in_the_truth(home):
    anomalies = pl.read_parquet(home / "truth" / "anomalies.parquet")
    assert sorted(anomalies["kind"]) == sorted(
        ["retry_storm", "prompt_bloat", "new_team", "model_switch", "cache_collapse", "outage"]
    )
    assert set(anomalies["start_day"]) == {START + timedelta(days=1)}
    truth = pl.read_parquet(home / "truth" / "usage_daily.parquet").filter(pl.col("via_gateway"))
    day0, day1 = START, START + timedelta(days=1)

    def per(team: str, feature: str, day: date) -> dict:
        return (
            truth.filter((pl.col("team") == team) & (pl.col("feature") == feature) & (pl.col("day") == day))
            .select(pl.col("requests", "errors", "input_tokens", "cache_read_tokens").sum())
            .row(0, named=True)
        )

    bloat0, bloat1 = per("search", "answer-gen", day0), per("search", "answer-gen", day1)
    assert (bloat1["input_tokens"] / (bloat1["requests"] - bloat1["errors"])) / (
        bloat0["input_tokens"] / (bloat0["requests"] - bloat0["errors"])
    ) > 2.5
    storm = per("support", "ticket-triage", day1)
    assert storm["errors"] / storm["requests"] > 0.25
    assert "agents" not in truth.filter(pl.col("day") == day0)["team"].to_list()
    assert "agents" in truth.filter(pl.col("day") == day1)["team"].to_list()
    email = truth.filter(pl.col("feature") == "email-copy")
    assert set(email.filter(pl.col("day") == day0)["model"]) == {"gpt-4o-mini"}
    assert set(email.filter(pl.col("day") == day1)["model"]) == {"gpt-4.1"}
    collapse0, collapse1 = per("support", "reply-draft", day0), per("support", "reply-draft", day1)
    assert (
        collapse1["cache_read_tokens"] / collapse1["input_tokens"]
        < 0.2
        < collapse0["cache_read_tokens"] / collapse0["input_tokens"]
    )
    anthropic1 = truth.filter((pl.col("provider") == "anthropic") & (pl.col("day") == day1))
    assert anthropic1["errors"].sum() / anthropic1["requests"].sum() > 0.5


def test_one_day_range_injects_no_anomaly():
    assert place(1) == []
    assert {a.kind for a in place(30)} == {
        "retry_storm",
        "prompt_bloat",
        "new_team",
        "model_switch",
        "cache_collapse",
        "outage",
    }


def test_unattributed_traffic_is_small_but_present(home):
    truth = pl.read_parquet(home / "truth" / "usage_daily.parquet").filter(pl.col("via_gateway"))
    share = truth.filter(pl.col("team") == "unattributed")["requests"].sum() / truth["requests"].sum()
    assert 0.003 < share < 0.05


def test_no_secrets_and_bodies_only_in_the_otel_content_attribute(home, parsed):
    litellm, otel = parsed
    for e in litellm:
        assert e["raw"]["messages"] == e["raw"]["response"] == "{}"
        assert len(e["raw"]["api_key"]) == 64 and int(e["raw"]["api_key"], 16) >= 0
    carriers = [e for e in otel if "gen_ai.input.messages" in e["attributes"]]
    assert carriers and all(BODY_MARKER in e["attributes"]["gen_ai.input.messages"] for e in carriers)
    marker_count = 0
    for path in (home / "landing").rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert "sk-" not in text and "Bearer" not in text
            marker_count += text.count(BODY_MARKER)
            if "otel" not in path.parts:
                assert BODY_MARKER not in text
    assert marker_count == len(carriers)


# --- provider bills ----------------------------------------------------------------------------------


def _final_openai_files(home: Path) -> list[Path]:
    """Per day, the latest delivery of the OpenAI cost report (file names sort by delivery date)."""
    return [sorted(d.glob("costs_*.json"))[-1] for d in sorted((home / "landing" / "openai_costs").iterdir())]


def _billed_from_files(home: Path) -> dict[tuple[str, str], Decimal]:
    """Independent sum of every AI line of the final exports: what each provider bills per day."""
    land = home / "landing"
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for path in _final_openai_files(home):
        for bucket in json.loads(path.read_text())["data"]:
            for r in bucket["results"]:
                out[(path.parent.name, "openai")] += Decimal(r["amount"]["value"])
    for path in land.glob("anthropic_cost/*/*.json"):
        for bucket in json.loads(path.read_text())["data"]:
            for r in bucket["results"]:
                out[(bucket["starting_at"][:10], "anthropic")] += Decimal(r["amount"]) / 100
    cur = pl.read_parquet(land / "aws_cur" / "*" / "*.parquet")
    bedrock = cur.filter(
        (pl.col("line_item_product_code") == "AmazonBedrock") | (pl.col("bill_billing_entity") == "AWS Marketplace")
    )
    for r in bedrock.iter_rows(named=True):
        out[(str(r["line_item_usage_start_date"].date()), "aws_bedrock")] += Decimal(
            repr(r["line_item_unblended_cost"])
        )
    for path in land.glob("focus/*/*.csv"):
        for r in csv.DictReader(path.open(newline="")):
            if r["ServiceCategory"] == "AI and Machine Learning":
                out[(r["ChargePeriodStart"][:10], "aws_bedrock")] += Decimal(r["BilledCost"])
    for path in land.glob("azure_cost/*/*.csv"):
        for r in csv.DictReader(path.open(encoding="utf-8-sig", newline="")):
            if r["MeterSubCategory"] == "Azure OpenAI":
                m, d, y = r["Date"].split("/")
                out[(f"{y}-{m}-{d}", "azure_openai")] += Decimal(r["Cost"])
    for path in land.glob("gcp_billing/*/*.jsonl"):
        for r in map(json.loads, path.read_text().splitlines()):
            if r["service"]["description"] == "Vertex AI":
                net = Decimal(repr(r["cost"])) + sum(Decimal(repr(c["amount"])) for c in r["credits"])
                out[(r["usage_start_time"][:10], "gcp_vertex")] += net
    return dict(out)


def test_billing_truth_equals_the_final_exports_line_by_line(home):
    truth = pl.read_parquet(home / "truth" / "billing_daily.parquet")
    want = {(str(r["day"]), r["provider"]): r["billed_cost_usd"] for r in truth.iter_rows(named=True)}
    assert set(want) == {
        (str(START + timedelta(days=d)), p)
        for d in range(DAYS)
        for p in ("openai", "anthropic", "aws_bedrock", "azure_openai", "gcp_vertex")
    }
    assert _billed_from_files(home) == want


def test_bills_carry_bypass_traffic_and_match_the_usage_truth(home):
    usage = pl.read_parquet(home / "truth" / "usage_daily.parquet").filter(pl.col("model") != "text-embedding-3-small")
    reported = pl.read_parquet(home / "truth" / "provider_usage.parquet")
    for provider in ("openai", "anthropic"):
        seen = usage.filter(pl.col("provider") == provider)
        billed = reported.filter(pl.col("provider") == provider)
        for col in ("input_tokens", "cache_read_tokens", "output_tokens"):
            assert billed[col].sum() == seen[col].sum(), (provider, col)
        assert billed[col].sum() > seen.filter(pl.col("via_gateway"))[col].sum()
    succeeded = usage.filter(pl.col("provider") == "openai").select(pl.col("requests") - pl.col("errors")).sum().item()
    assert reported.filter(pl.col("provider") == "openai")["requests"].sum() == succeeded


def test_openai_costs_are_catalog_prices_rounded_to_six_places(home):
    from tokenomics.generator.billing.openai_files import SNAPSHOTS, TOKEN_CLASS
    from tokenomics.generator.catalog import unit_prices

    key_of = {v: k for k, v in SNAPSHOTS.items()}
    kind_of = {v: k for k, v in TOKEN_CLASS.items()}
    checked = 0
    for path in _final_openai_files(home):
        day = date.fromisoformat(path.parent.name)
        for r in json.loads(path.read_text())["data"][0]["results"]:
            batch = r["line_item"].startswith("batch | ")
            model, kind = r["line_item"].removeprefix("batch | ").split(", ")
            price = getattr(unit_prices(key_of[model], day), kind_of[kind]) * (Decimal("0.5") if batch else 1)
            assert Decimal(r["amount"]["value"]) == (r["quantity"] * price).quantize(Decimal("0.000001"), ROUND_HALF_UP)
            checked += 1
    assert checked > 10


def test_restated_day_has_a_later_delivery_with_the_final_numbers(home):
    restated = [d for d in (home / "landing" / "openai_costs").iterdir() if len(list(d.glob("*.json"))) == 2]
    assert len(restated) == 1
    early, final = sorted(restated[0].glob("*.json"))

    def total(path: Path) -> Decimal:
        return sum(Decimal(r["amount"]["value"]) for r in json.loads(path.read_text())["data"][0]["results"])

    assert total(early) < total(final)
    truth = pl.read_parquet(home / "truth" / "billing_daily.parquet")
    day = date.fromisoformat(restated[0].name)
    assert truth.filter((pl.col("day") == day) & (pl.col("provider") == "openai"))["billed_cost_usd"].item() == total(
        final
    )


def test_discount_and_credits_lower_the_bill(home):
    truth = pl.read_parquet(home / "truth" / "billing_daily.parquet")
    azure = truth.filter(pl.col("provider") == "azure_openai")
    assert (azure["billed_cost_usd"] < azure["list_cost_usd"]).all()
    for provider in ("aws_bedrock", "gcp_vertex"):
        assert truth.filter(pl.col("provider") == provider)["credits_usd"].sum() < 0
    for path in (home / "landing").glob("azure_cost/*/*.csv"):
        for r in csv.DictReader(path.open(encoding="utf-8-sig", newline="")):
            assert Decimal(r["Cost"]) == Decimal(r["Quantity"]) * Decimal(r["EffectivePrice"])
            assert Decimal(r["EffectivePrice"]) < Decimal(r["PayGPrice"])


def test_cloud_bills_mix_ai_lines_with_other_services(home):
    land = home / "landing"
    cur = pl.read_parquet(land / "aws_cur" / "*" / "*.parquet")
    assert {"AmazonBedrock", "AmazonEC2", "AmazonS3"} <= set(cur["line_item_product_code"])
    assert "AWS Marketplace" in set(cur["bill_billing_entity"]) and "Credit" in set(cur["line_item_line_item_type"])
    assert (cur.filter(pl.col("line_item_line_item_type") == "Credit")["line_item_unblended_cost"] < 0).all()
    azure = [
        r["MeterCategory"]
        for p in land.glob("azure_cost/*/*.csv")
        for r in csv.DictReader(p.open(encoding="utf-8-sig", newline=""))
    ]
    assert {"Cognitive Services", "Virtual Machines", "Storage"} <= set(azure)
    gcp = {
        json.loads(line)["service"]["description"]
        for p in land.glob("gcp_billing/*/*.jsonl")
        for line in p.read_text().splitlines()
    }
    assert {"Vertex AI", "Compute Engine", "BigQuery"} <= gcp
    focus = [r["ServiceCategory"] for p in land.glob("focus/*/*.csv") for r in csv.DictReader(p.open(newline=""))]
    assert {"AI and Machine Learning", "Compute"} <= set(focus)
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in land.glob("azure_cost/*/*.csv"))


def test_batch_requests_are_marked_and_logged_at_half_price(parsed):
    from tokenomics.generator.catalog import unit_prices
    from tokenomics.generator.company import MODELS

    key_of = {m.name: k for k, m in MODELS.items() if m.provider == "openai"}
    batch = [e for e in parsed[0] if e["raw"]["call_type"] == "aretrieve_batch"]
    assert batch
    for e in batch:
        meta = json.loads(e["raw"]["metadata"])
        assert meta["batch_models"] == [e["model"]] and meta["spend_logs_metadata"]["batch_id"].startswith("batch_")
        p = unit_prices(key_of[e["model"]], date.fromisoformat(e["start"][:10]))
        full = (
            (e["input_tokens"] - e["cache_read_tokens"]) * p.input
            + e["cache_read_tokens"] * p.cache_read
            + e["output_tokens"] * p.output
        )
        assert float(e["raw"]["spend"]) == pytest.approx(float(full) / 2, rel=1e-9)
    batch_ids = {e["id"] for e in batch}
    assert not any(json.loads(e["raw"]["metadata"])["batch_models"] for e in parsed[0] if e["id"] not in batch_ids)
    assert any(e["attributes"].get("app.batch") is True for e in parsed[1])
