"""The demo company's tokenomics.yaml, and the attribution those rules give each stream (the truth's team/feature).

The truth is what correct attribution under this configuration yields, so the same rule list is both
written to the YAML and evaluated here, per stream, on the hints the logs carry.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import yaml

from tokenomics.generator.company import KEYS, SERVICES, Stream
from tokenomics.schema import UNATTRIBUTED

ATTRIBUTION: dict[str, list[dict]] = {
    "team": [
        {
            "field": "gateway_team",
            "map": {
                "team-7f3a": "search",
                "search-eng": "search",
                "team-91c2": "growth",
                "growth-mktg": "growth",
                "team-a93e": "agents",
                "agents-lab": "agents",
            },
        },
        {"field": "tag", "prefix": "team:"},
        {"field": "key_alias", "pattern": "support-*", "value": "support"},
        {"field": "label", "key": "app.team"},
        {"field": "label", "key": "service.namespace", "map": {"mobile-app": "mobile"}},
    ],
    "feature": [
        {"field": "tag", "prefix": "feature:"},
        {"field": "label", "key": "app.feature"},
    ],
}

HEADER = """\
# Tokenomics configuration of the generated demo company (written by `tokenomics generate`).
# Attribution: for each dimension, the first matching rule wins; no match gives 'unattributed'.
#   gateway_team: LiteLLM team id or alias     tag: a LiteLLM request_tags element
#   key_alias:    LiteLLM key alias (glob)      label: an OTel resource or span attribute
"""


def stream_hints(stream: Stream) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The attribution hints a stream's log rows carry: (field -> its values, OTel labels); none for
    gateway-bypassing traffic."""
    if stream.channel == "litellm":
        if stream.key is None:
            raise ValueError(f"stream {stream.name}: a litellm stream needs a key")
        key = KEYS[stream.key]
        fields = {
            "gateway_team": [v for v in (key.team_id, key.team_alias) if v],
            "key_alias": [key.alias],
            "tag": list(stream.tags),
            "model": [stream.spec.name],
        }
        return fields, {}
    if stream.channel == "otel":
        if stream.service is None:
            raise ValueError(f"stream {stream.name}: an otel stream needs a service")
        labels = {"service.name": stream.service, **SERVICES[stream.service].resource, **stream.span_labels}
        return {"model": [stream.spec.name]}, labels
    return {}, {}


def _apply(rule: dict, fields: dict[str, list[str]], labels: dict[str, str]) -> str | None:
    if rule["field"] == "label":
        value = labels.get(rule["key"])
        values = [value] if value is not None else []
    else:
        values = list(fields.get(rule["field"], []))
    for value in values:
        if "map" in rule:
            if value in rule["map"]:
                return rule["map"][value]
        elif "pattern" in rule:
            if fnmatch.fnmatchcase(value, rule["pattern"]):
                return rule["value"]
        elif "equals" in rule:
            if value == rule["equals"]:
                return rule["value"]
        elif "prefix" in rule:
            if value.startswith(rule["prefix"]):
                return rule.get("value", value[len(rule["prefix"]) :])
        else:
            return value
    return None


def attribute(stream: Stream) -> tuple[str, str]:
    """(team, feature) that the configured rules give this stream's rows; bypass traffic keeps its real owner."""
    if not stream.via_gateway:
        return stream.team, stream.feature
    fields, labels = stream_hints(stream)
    out = []
    for dimension in ("team", "feature"):
        found = None
        for rule in ATTRIBUTION[dimension]:
            found = _apply(rule, fields, labels)
            if found is not None:
                break
        out.append(found or UNATTRIBUTED)
    return out[0], out[1]


DEMO_SECTIONS = {
    "alerts": {
        # a JSONL file channel so the demo shows delivered alerts without any secret; add slack,
        # webhook or email channels with *_env names of environment variables holding the secrets
        "channels": [{"name": "demo-file", "kind": "file", "path": "alerts.jsonl", "min_severity": "info"}],
        "recency_days": 3,
    },
    "allocation": {"method": "proportional"},
    "budgets": [
        {"team": "search", "monthly_usd": "120"},
        {"team": "support", "monthly_usd": "90"},
        {"team": "agents", "monthly_usd": "100", "thresholds": [50, 80, 100, 150]},
        {"team": "legal-ai", "monthly_usd": "110"},
        {"team": "growth", "monthly_usd": "60"},
        {"team": "growth", "feature": "email-copy", "monthly_usd": "15"},
    ],
}
"""The rest of the demo configuration: an alert channel, the allocation method, team budgets."""


def write_config(path: Path) -> Path:
    """Write tokenomics.yaml holding the attribution rules the logs were generated for."""
    body = yaml.safe_dump({"attribution": ATTRIBUTION, **DEMO_SECTIONS}, sort_keys=False, default_flow_style=False)
    path.write_text(HEADER + body, encoding="utf-8")
    return path
