"""Attribution rules: each rule kind, first match wins, never null."""

from __future__ import annotations

import polars as pl

from tokenomics.attribution import attribute
from tokenomics.config import AttributionConfig, parse_config
from tokenomics.schema import UNATTRIBUTED, USAGE_EVENTS

HINTS = ("gateway_team", "key_alias", "project", "api_key_id", "model", "request_tags", "labels")


def usage(*rows: dict) -> pl.DataFrame:
    """usage_events rows carrying only attribution hints (everything else null)."""
    return pl.DataFrame(list(rows), schema={name: USAGE_EVENTS[name] for name in (*HINTS, "team", "feature")})


def rules(team: list[dict] | None = None, feature: list[dict] | None = None) -> AttributionConfig:
    section = {k: v for k, v in (("team", team), ("feature", feature)) if v is not None}
    return parse_config({"attribution": section}).attribution


def teams(frame: pl.DataFrame, config: AttributionConfig | None = None) -> list[str]:
    return attribute(frame, config)["team"].to_list()


def label(key: str, value: str) -> dict:
    return {"key": key, "value": value}


def test_gateway_team_map_translates_and_misses_fall_through():
    config = rules(team=[{"field": "gateway_team", "map": {"team-7f3a": "search", "search-eng": "search"}}])
    frame = usage({"gateway_team": "team-7f3a"}, {"gateway_team": "search-eng"}, {"gateway_team": "team-0000"})
    assert teams(frame, config) == ["search", "search", UNATTRIBUTED]


def test_tag_prefix_yields_remainder_of_first_matching_tag():
    config = rules(team=[{"field": "tag", "prefix": "team:"}])
    frame = usage(
        {"request_tags": ["env:prod", "team:billing", "team:search"]},
        {"request_tags": ["team:", "team:growth"]},  # an empty remainder names nobody
        {"request_tags": ["env:prod"]},
        {"request_tags": []},
        {"request_tags": None},
    )
    assert teams(frame, config) == ["billing", "growth", UNATTRIBUTED, UNATTRIBUTED, UNATTRIBUTED]


def test_tag_with_map_takes_first_tag_in_the_map():
    config = rules(team=[{"field": "tag", "map": {"prod-search": "search", "prod-ads": "ads"}}])
    assert teams(usage({"request_tags": ["beta", "prod-ads", "prod-search"]}), config) == ["ads"]


def test_tag_pattern_with_value():
    config = rules(team=[{"field": "tag", "pattern": "cs-*", "value": "support"}])
    assert teams(usage({"request_tags": ["x", "cs-tier1"]}, {"request_tags": ["acs-1"]}), config) == [
        "support",
        UNATTRIBUTED,
    ]


def test_label_rule_reads_the_value_of_its_key():
    config = rules(team=[{"field": "label", "key": "app.team"}])
    frame = usage(
        {"labels": [label("service.name", "api"), label("app.team", "growth")]},
        {"labels": [label("app.feature", "chat")]},
        {"labels": None},
    )
    assert teams(frame, config) == ["growth", UNATTRIBUTED, UNATTRIBUTED]


def test_label_rule_with_map():
    config = rules(team=[{"field": "label", "key": "service.namespace", "map": {"mobile-app": "mobile"}}])
    frame = usage(
        {"labels": [label("service.namespace", "mobile-app")]},
        {"labels": [label("service.namespace", "web")]},
    )
    assert teams(frame, config) == ["mobile", UNATTRIBUTED]


def test_key_alias_glob_with_value_is_anchored():
    config = rules(team=[{"field": "key_alias", "pattern": "support-*", "value": "support"}])
    frame = usage({"key_alias": "support-bot-1"}, {"key_alias": "tier2-support-bot"}, {"key_alias": "support"})
    assert teams(frame, config) == ["support", UNATTRIBUTED, UNATTRIBUTED]


def test_glob_dots_are_literal():
    config = rules(team=[{"field": "model", "pattern": "gpt-4.1*", "value": "gpt41-users"}])
    assert teams(usage({"model": "gpt-4.1-mini"}, {"model": "gpt-4x1"}), config) == ["gpt41-users", UNATTRIBUTED]


def test_equals_rule_on_project():
    config = rules(team=[{"field": "project", "equals": "proj_abc", "value": "research"}])
    assert teams(usage({"project": "proj_abc"}, {"project": "proj_abcd"}), config) == ["research", UNATTRIBUTED]


def test_prefix_on_a_plain_field_yields_the_remainder():
    config = rules(team=[{"field": "api_key_id", "prefix": "key-team-"}])
    assert teams(usage({"api_key_id": "key-team-ads"}, {"api_key_id": "key-ads"}), config) == ["ads", UNATTRIBUTED]


def test_field_as_is_when_rule_has_no_condition():
    config = rules(team=[{"field": "gateway_team"}])
    assert teams(usage({"gateway_team": "search"}), config) == ["search"]


def test_first_matching_rule_wins_in_order():
    row = usage({"gateway_team": "team-7f3a", "request_tags": ["team:ml"]})
    by_gateway = {"field": "gateway_team", "map": {"team-7f3a": "search"}}
    by_tag = {"field": "tag", "prefix": "team:"}
    gateway_first = rules(team=[by_gateway, by_tag])
    tags_first = rules(team=[by_tag, by_gateway])
    assert teams(row, gateway_first) == ["search"]
    assert teams(row, tags_first) == ["ml"]


def test_later_rule_applies_when_earlier_ones_do_not_match():
    config = rules(
        team=[
            {"field": "gateway_team", "map": {"team-7f3a": "search"}},
            {"field": "tag", "prefix": "team:"},
            {"field": "label", "key": "app.team"},
            {"field": "key_alias", "pattern": "support-*", "value": "support"},
        ]
    )
    frame = usage(
        {"gateway_team": "team-7f3a", "request_tags": ["team:ml"]},
        {"gateway_team": "unknown", "request_tags": ["team:ml"]},
        {"labels": [label("app.team", "growth")], "key_alias": "support-1"},
        {"key_alias": "support-1"},
        {"key_alias": "ops-1"},
    )
    assert teams(frame, config) == ["search", "ml", "growth", "support", UNATTRIBUTED]


def test_team_and_feature_are_decided_independently():
    config = rules(team=[{"field": "tag", "prefix": "team:"}], feature=[{"field": "label", "key": "app.feature"}])
    frame = usage({"request_tags": ["feature:chat"], "labels": [label("app.feature", "search-box")]})
    out = attribute(frame, config)
    assert out.select("team", "feature").row(0) == (UNATTRIBUTED, "search-box")


def test_unattributed_fallback_is_never_null():
    out = attribute(usage({}, {"gateway_team": ""}, {"gateway_team": "   "}))
    assert out["team"].to_list() == [UNATTRIBUTED] * 3
    assert out["feature"].to_list() == [UNATTRIBUTED] * 3
    assert out["team"].null_count() == 0 and out["feature"].null_count() == 0


def test_default_rules_gateway_team_then_tags_then_labels():
    frame = usage(
        {"gateway_team": "search", "request_tags": ["team:ml", "feature:chat"]},
        {"request_tags": ["team:ml"], "labels": [label("app.team", "growth"), label("app.feature", "onboarding")]},
        {"labels": [label("app.team", "growth")]},
    )
    out = attribute(frame)
    assert out["team"].to_list() == ["search", "ml", "growth"]
    assert out["feature"].to_list() == ["chat", "onboarding", UNATTRIBUTED]


def test_explicit_empty_rule_list_attributes_nothing():
    config = rules(team=[])
    assert teams(usage({"gateway_team": "search"}), config) == [UNATTRIBUTED]
    assert config.feature  # feature left out keeps its defaults


def test_missing_hint_columns_count_as_absent():
    frame = pl.DataFrame({"event_id": ["a"], "request_tags": [["team:ml"]]})
    out = attribute(frame)
    assert out.columns == ["event_id", "request_tags", "team", "feature"]
    assert out.row(0) == ("a", ["team:ml"], "ml", UNATTRIBUTED)


def test_other_columns_and_row_order_are_kept():
    frame = usage({"gateway_team": "b"}, {"gateway_team": "a"}).with_columns(pl.Series("model", ["m1", "m2"]))
    out = attribute(frame)
    assert out["model"].to_list() == ["m1", "m2"] and out["team"].to_list() == ["b", "a"]
    assert out.columns == frame.columns
