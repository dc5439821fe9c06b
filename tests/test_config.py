"""tokenomics.yaml: defaults, every section, and one-line errors that name the key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tokenomics.config import (
    DEFAULT_FEATURE_RULES,
    DEFAULT_TEAM_RULES,
    Config,
    ConfigError,
    env_secret,
    load_config,
    parse_config,
)

FIXTURES = Path(__file__).parent / "fixtures" / "config"


def error_of(data: dict) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    return str(raised.value)


def test_missing_file_gives_defaults(tmp_path):
    config = load_config(tmp_path / "tokenomics.yaml")
    assert config == Config()
    assert config.prices.batch_discount_pct == Decimal(50)
    assert config.attribution.team == list(DEFAULT_TEAM_RULES)
    assert config.attribution.feature == list(DEFAULT_FEATURE_RULES)


def test_empty_file_gives_defaults(tmp_path):
    path = tmp_path / "tokenomics.yaml"
    path.write_text("# nothing configured yet\n")
    assert load_config(path) == Config()


def test_no_path_reads_the_homes_file(tmp_path, monkeypatch):
    (tmp_path / "tokenomics.yaml").write_text("prices: {batch_discount_pct: 40}\n")
    monkeypatch.setenv("TOKENOMICS_HOME", str(tmp_path))
    assert load_config().prices.batch_discount_pct == Decimal(40)


def test_full_example_loads_every_section():
    config = load_config(FIXTURES / "full.yaml")
    assert config.sources == ["litellm", "otel", "openai_costs", "anthropic_cost"]
    assert [rule.field for rule in config.attribution.team] == ["gateway_team", "tag", "label", "key_alias"]
    assert config.attribution.team[0].map == {"team-7f3a": "search", "search-eng": "search"}
    assert [rule.prefix for rule in config.attribution.feature] == ["feature:"]
    acme, negotiated = config.prices.overrides
    assert acme.effective_from == date(2026, 1, 1) and acme.effective_to is None
    assert (acme.input_per_mtok, acme.output_per_mtok, acme.cache_read_per_mtok) == (
        Decimal("0.30"),
        Decimal("1.2"),
        Decimal("0.15"),
    )
    assert acme.cache_write_per_mtok is None
    assert negotiated.discount_pct == Decimal("12.5") and negotiated.is_discount
    assert config.budgets[0].thresholds == [50, 80, 100]
    assert config.budgets[1].monthly_usd == Decimal("2500.50") and config.budgets[1].feature == "onboarding"
    assert [c.kind for c in config.alerts.channels] == ["slack", "email", "file"]
    assert config.alerts.channels[1].password_env == "SMTP_PASSWORD"
    assert config.alerts.routes[1].min_severity == "warning"
    assert config.tco.models[0].output_tokens_per_second == Decimal(4205)
    assert config.tco.pue == Decimal("1.4")
    assert config.allocation.weights == {"search": Decimal(2), "growth": Decimal(1)}
    assert config.anomalies.detector_kwargs() == {"threshold": 4.0, "min_abs_impact": 100.0}


def test_yaml_float_price_becomes_the_decimal_written():
    config = parse_config(
        {
            "prices": {
                "overrides": [
                    {
                        "name": "x",
                        "provider": "openai",
                        "effective_from": "2026-01-01",
                        "input_per_mtok": 0.1,
                        "output_per_mtok": 0.3,
                    }
                ]
            }
        }
    )
    assert config.prices.overrides[0].input_per_mtok == Decimal("0.1")
    assert config.prices.overrides[0].output_per_mtok == Decimal("0.3")


def test_unknown_key_error_names_key_path_and_choices():
    with pytest.raises(ConfigError) as raised:
        load_config(FIXTURES / "unknown_key.yaml")
    assert str(raised.value) == (
        "unknown_key.yaml: attribution.team[2].keys: unknown key 'keys' "
        "(expected one of: field, key, map, pattern, equals, prefix, value)"
    )


def test_unknown_attribution_field_names_the_value():
    with pytest.raises(ConfigError) as raised:
        load_config(FIXTURES / "unknown_field.yaml")
    assert str(raised.value).startswith("unknown_field.yaml: attribution.team[2].field: unknown field 'teamid' ")
    assert "'gateway_team'" in str(raised.value) and "'label'" in str(raised.value)


def test_unknown_top_level_section_is_an_error():
    assert error_of({"atribution": {}}).startswith("tokenomics.yaml: atribution: unknown key 'atribution'")


def test_secret_literal_refused_without_echoing_it():
    with pytest.raises(ConfigError) as raised:
        load_config(FIXTURES / "secret_literal.yaml")
    message = str(raised.value)
    assert message == (
        "secret_literal.yaml: alerts.channels[0].url: secrets cannot be written in the config; "
        "put it in an environment variable and give its name: url_env: VAR_NAME"
    )
    assert "hooks.slack.com" not in message


@pytest.mark.parametrize("key", ["smtp_password", "webhook_url", "api_token", "client_secret", "openai_api_key"])
def test_every_secret_looking_key_is_refused(key):
    message = error_of({"alerts": {"channels": [{"name": "c", "kind": "slack", "url_env": "X", key: "s3cr3t"}]}})
    assert f"alerts.channels[0].{key}: secrets cannot be written in the config" in message
    assert "s3cr3t" not in message


def test_env_reference_must_be_a_variable_name_not_the_secret():
    message = error_of({"alerts": {"channels": [{"name": "c", "kind": "slack", "url_env": "https://hooks.x/y"}]}})
    assert message == (
        "tokenomics.yaml: alerts.channels[0].url_env: expected the name of an environment variable "
        "(e.g. SLACK_WEBHOOK_URL), not its value"
    )


def test_token_counts_are_not_mistaken_for_secrets():
    config = parse_config({"tco": {"models": [{"name": "m", "output_tokens_per_second": 100}]}})
    assert config.tco.models[0].output_tokens_per_second == Decimal(100)


def test_map_keys_are_data_not_settings():
    config = parse_config({"attribution": {"team": [{"field": "key_alias", "map": {"secret-project": "r&d"}}]}})
    assert config.attribution.team[0].map == {"secret-project": "r&d"}


def test_env_secret_reads_the_named_variable(monkeypatch):
    monkeypatch.setenv("H3_TEST_WEBHOOK", "https://example.invalid/hook")
    assert env_secret("H3_TEST_WEBHOOK", "alerts.channels[0].url_env") == "https://example.invalid/hook"
    monkeypatch.delenv("H3_TEST_WEBHOOK")
    with pytest.raises(ConfigError, match=r"alerts.channels\[0\].url_env: environment variable H3_TEST_WEBHOOK"):
        env_secret("H3_TEST_WEBHOOK", "alerts.channels[0].url_env")


def test_duplicate_key_is_an_error_with_its_line():
    with pytest.raises(ConfigError) as raised:
        load_config(FIXTURES / "duplicate_key.yaml")
    assert str(raised.value) == "duplicate_key.yaml: line 3: not valid YAML (duplicate key 'prices')"


def test_channel_needs_the_fields_of_its_kind():
    assert error_of({"alerts": {"channels": [{"name": "c", "kind": "slack"}]}}) == (
        "tokenomics.yaml: alerts.channels[0]: a slack channel needs url_env"
    )
    assert error_of({"alerts": {"channels": [{"name": "c", "kind": "file", "path": "a", "smtp_host": "h"}]}}) == (
        "tokenomics.yaml: alerts.channels[0]: smtp_host does not apply to a file channel"
    )


def test_unknown_channel_kind_names_the_choices():
    assert error_of({"alerts": {"channels": [{"name": "c", "kind": "teams"}]}}) == (
        "tokenomics.yaml: alerts.channels[0].kind: unknown kind 'teams' "
        "(expected one of: 'slack', 'webhook', 'email' or 'file')"
    )


def test_route_must_name_a_defined_channel():
    data = {"alerts": {"channels": [{"name": "a", "kind": "file", "path": "x"}], "routes": [{"channels": ["b"]}]}}
    assert error_of(data) == "tokenomics.yaml: alerts.routes[0].channels: unknown channel 'b' (defined: a)"


def test_override_needs_unit_prices_or_discount_not_both():
    base = {"name": "x", "provider": "openai", "effective_from": "2026-01-01"}
    assert error_of({"prices": {"overrides": [base | {"input_per_mtok": 1}]}}) == (
        "tokenomics.yaml: prices.overrides[0]: needs input_per_mtok and output_per_mtok, or discount_pct"
    )
    both = base | {"input_per_mtok": 1, "output_per_mtok": 2, "discount_pct": 10}
    assert "either discount_pct or unit prices" in error_of({"prices": {"overrides": [both]}})


def test_override_window_must_be_forward():
    bad = {
        "name": "x",
        "provider": "openai",
        "effective_from": "2026-02-01",
        "effective_to": "2026-02-01",
        "discount_pct": 5,
    }
    assert "effective_to must be after effective_from" in error_of({"prices": {"overrides": [bad]}})


def test_override_provider_must_be_canonical():
    bad = {"name": "x", "provider": "bedrock", "effective_from": "2026-02-01", "discount_pct": 5}
    assert error_of({"prices": {"overrides": [bad]}}).startswith(
        "tokenomics.yaml: prices.overrides[0].provider: unknown provider 'bedrock' (expected one of: openai,"
    )


def test_bad_value_names_its_key_path():
    assert error_of({"budgets": [{"team": "a", "monthly_usd": "lots"}]}) == (
        "tokenomics.yaml: budgets[0].monthly_usd: Input should be a valid decimal"
    )
    assert error_of({"prices": {"batch_discount_pct": 150}}) == (
        "tokenomics.yaml: prices.batch_discount_pct: Input should be less than or equal to 100"
    )


def test_budget_thresholds_ascending_and_one_budget_per_scope():
    assert "ascending" in error_of({"budgets": [{"team": "a", "monthly_usd": 1, "thresholds": [80, 50]}]})
    twice = [{"team": "a", "monthly_usd": 1}, {"team": "a", "monthly_usd": 2}]
    assert error_of({"budgets": twice}) == "tokenomics.yaml: budgets: two budgets for team 'a'"


def test_weights_go_with_the_weights_method():
    assert error_of({"allocation": {"method": "weights"}}) == (
        "tokenomics.yaml: allocation: method 'weights' needs a weights map (team: weight)"
    )
    assert "only apply to method 'weights'" in error_of({"allocation": {"weights": {"a": 1}}})


def test_unknown_source_is_an_error():
    assert error_of({"sources": ["litellm", "splunk"]}).startswith(
        "tokenomics.yaml: sources: unknown source 'splunk' (expected one of: openai_usage,"
    )


def test_label_rule_needs_its_key():
    assert error_of({"attribution": {"team": [{"field": "label"}]}}) == (
        "tokenomics.yaml: attribution.team[0]: a label rule needs 'key' (the label name, e.g. app.team)"
    )


def test_value_rule_needs_a_condition():
    assert error_of({"attribution": {"team": [{"field": "key_alias", "value": "support"}]}}) == (
        "tokenomics.yaml: attribution.team[0]: 'value' needs a condition: pattern, equals or prefix"
    )


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "tokenomics.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping of sections at the top level, got list"):
        load_config(path)
