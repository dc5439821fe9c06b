"""Canonical table schemas (DESIGN section 4): the one place column names and types are decided."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import polars as pl

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

Schema: TypeAlias = "dict[str, PolarsDataType]"
"""Column name -> Polars type, as pl.DataFrame(schema=...) takes it (a type class like pl.String or an instance)."""

MONEY = pl.Decimal(38, 12)
"""Exact money: never a binary float. 12 fractional digits covers per-token prices."""

UTC_TS = pl.Datetime("us", "UTC")

TOKEN_COLUMNS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)

AUDIO_COLUMNS = ("input_audio_tokens", "output_audio_tokens")
"""Audio subsets, priced at audio rates: input_audio_tokens are the audio input tokens *not* read from
the cache (cached audio stays in cache_read_tokens), inside input_tokens; output_audio_tokens are
inside output_tokens. 0 when the source does not split modalities."""

LABELS = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
"""Free key/value attribution hints (OTel resource/span attributes, client metadata)."""

USAGE_EVENTS: Schema = {
    "event_id": pl.String,
    "ts": UTC_TS,
    "day": pl.Date,
    "source": pl.String,
    "provider": pl.String,
    "vendor": pl.String,  # who made the model ("meta-llama") when a reselling gateway is the provider
    "model": pl.String,
    "model_id": pl.String,
    "team": pl.String,
    "feature": pl.String,
    "project": pl.String,
    "api_key_id": pl.String,
    "user_hash": pl.String,
    "input_tokens": pl.Int64,
    "cache_read_tokens": pl.Int64,
    "cache_write_tokens": pl.Int64,
    "output_tokens": pl.Int64,
    "reasoning_tokens": pl.Int64,
    **{name: pl.Int64 for name in AUDIO_COLUMNS},
    "requests": pl.Int64,
    "is_batch": pl.Boolean,
    "service_tier": pl.String,
    "status": pl.String,
    "latency_ms": pl.Int64,
    "reported_cost_usd": MONEY,
    "cost_usd": MONEY,
    "cost_source": pl.String,
    "price_ref": pl.String,
    # attribution hints kept beside the row so re-attribution never needs the raw files
    "gateway_team": pl.String,
    "key_alias": pl.String,
    "request_tags": pl.List(pl.String),
    "labels": LABELS,
    "source_file": pl.String,
}

BILLING_LINES: Schema = {
    "charge_period_start": UTC_TS,
    "charge_period_end": UTC_TS,
    "day": pl.Date,
    "provider": pl.String,
    "billing_account_id": pl.String,
    "sub_account_id": pl.String,
    "service_name": pl.String,
    "sku": pl.String,
    "model": pl.String,
    "token_type": pl.String,
    "consumed_quantity": pl.Decimal(38, 6),
    "consumed_unit": pl.String,
    "billed_cost": MONEY,
    "effective_cost": MONEY,
    "list_cost": MONEY,
    "billing_currency": pl.String,
    "tags": pl.String,  # JSON object text: portable to every BI tool
    "line_id": pl.String,  # stable id of the line within its export, for dedup
    "source": pl.String,
    "source_file": pl.String,
}

PROVIDER_USAGE: Schema = {
    "day": pl.Date,
    "provider": pl.String,
    "sub_account_id": pl.String,
    "api_key_id": pl.String,
    "model": pl.String,
    "service_tier": pl.String,
    "is_batch": pl.Boolean,
    "requests": pl.Int64,
    "input_tokens": pl.Int64,
    "cache_read_tokens": pl.Int64,
    "cache_write_tokens": pl.Int64,
    "output_tokens": pl.Int64,
    "reasoning_tokens": pl.Int64,
    **{name: pl.Int64 for name in AUDIO_COLUMNS},
    "line_id": pl.String,
    "source": pl.String,
    "source_file": pl.String,
}

QUARANTINE: Schema = {
    "table": pl.String,
    "day": pl.Date,
    "source": pl.String,
    "source_file": pl.String,
    "line": pl.Int64,
    "reason": pl.String,
    "raw": pl.String,  # the record as read, never a prompt/response body or a secret
}

TABLES: dict[str, Schema] = {
    "usage_events": USAGE_EVENTS,
    "billing_lines": BILLING_LINES,
    "provider_usage": PROVIDER_USAGE,
}

DEDUP_KEYS: dict[str, tuple[str, ...]] = {
    "usage_events": ("source", "event_id"),
    "billing_lines": ("source", "line_id"),
    "provider_usage": ("source", "line_id"),
}

KNOWN_PROVIDERS = (
    "openai",
    "anthropic",
    "aws_bedrock",
    "azure_openai",
    "gcp_vertex",
    "google_ai",
    "mistral",
    "cohere",
    "deepseek",
    "groq",
    "xai",
    "openrouter",
    "other",
)

UNATTRIBUTED = "unattributed"


def empty(table: str) -> pl.DataFrame:
    """An empty frame with the canonical schema of `table` (or 'quarantine')."""
    schema = QUARANTINE if table == "quarantine" else TABLES[table]
    return pl.DataFrame(schema=schema)
