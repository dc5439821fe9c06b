"""Attribution labels from free key/value metadata: bodies, secrets and personal ids never become labels.

Gateways carry arbitrary client metadata (LiteLLM `spend_logs_metadata`, OTel span and resource
attributes). Only short string values under harmless keys are kept as `labels`; normalize applies
`tokenomics.privacy.safe_labels` again as defense in depth, this module decides what is worth keeping.
"""

from __future__ import annotations

import json

import polars as pl

from tokenomics.privacy import SENSITIVE_KEY
from tokenomics.schema import LABELS

CONTENT_KEY = (
    r"(?i)((^|[._\-])(input|output|prompts?|completions?|messages?|content|instructions|query|body|"
    r"arguments|result|text|document|documents)($|[._\-])|tool\.definitions|system_instructions)"
)
"""Keys that hold prompt/response text in the OTel GenAI, OpenLLMetry and OpenInference conventions."""

PERSONAL_KEY = r"(?i)(user|email|phone|(^|[._\-])ip($|[._\-])|address|peer)"
"""Keys that hold end-user ids or network addresses: pseudonymized into user_hash or dropped."""

MAX_LABEL_VALUE = 256
"""A longer value is text, not an attribution hint."""


def label_key_allowed(key: pl.Expr) -> pl.Expr:
    """True for keys whose values may be stored as labels."""
    return ~(key.str.contains(SENSITIVE_KEY) | key.str.contains(CONTENT_KEY) | key.str.contains(PERSONAL_KEY))


def keep_label(label: pl.Expr) -> pl.Expr:
    """True for a {key, value} struct worth keeping: harmless key, short non-empty string value."""
    key, value = label.struct.field("key"), label.struct.field("value")
    return (
        label_key_allowed(key)
        & value.is_not_null()
        & (value.str.strip_chars() != "")
        & (value.str.len_chars() <= MAX_LABEL_VALUE)
    )


def clean_labels(labels: pl.Expr) -> pl.Expr:
    """Keep only the labels `keep_label` accepts (per list element, vectorized)."""
    return labels.list.eval(pl.element().filter(keep_label(pl.element())))


def json_object_labels(texts: pl.Series) -> pl.Series:
    """LABELS from JSON-object texts: one {key, value} per string value; other values and bad JSON give none.

    Parsed once per distinct text: client metadata repeats (a few features, environments) far more
    than it varies, so a day of rows is a handful of json.loads calls.
    """
    distinct = texts.drop_nulls().unique()
    parsed = [_string_items(t) for t in distinct.to_list()]
    lookup = pl.DataFrame(
        {"text": distinct, "labels": parsed}, schema={"text": pl.String, "labels": LABELS}
    ).with_columns(clean_labels(pl.col("labels")).alias("labels"))
    joined = pl.DataFrame({"text": texts.cast(pl.String)}).join(lookup, on="text", how="left", maintain_order="left")
    return joined["labels"].fill_null([]).rename(texts.name)


def _string_items(text: str) -> list[dict[str, str]]:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return []
    if not isinstance(value, dict):
        return []
    return [{"key": str(k), "value": v} for k, v in value.items() if isinstance(v, str)]
