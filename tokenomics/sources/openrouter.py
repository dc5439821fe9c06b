"""OpenRouter per-generation usage: the activity page CSV export and `GET /api/v1/generation` answers (`data` objects).

Traps handled here (reference/formats.md sections 9.4 and 11):
- OpenRouter is the biller: it resells every model and its cost is the money owed to OpenRouter, not
  to the model's maker. provider = 'openrouter' (so its spend reconciles against OpenRouter, never
  against Anthropic's or OpenAI's bill); `model` / `model_permaslug` is kept as reported,
  "vendor/model" ("meta-llama/llama-3.1-70b-instruct", the name OpenRouter prices under in the
  catalog), and the vendor ("meta-llama") goes to `vendor` verbatim. `provider_name` is only the
  upstream host and is not used.
- Token counts: the generation API has normalized `tokens_*` (GPT tokenizer, for display) and
  `native_tokens_*` (the provider's own count, what is billed): `native_tokens_*` win whenever present,
  `tokens_*` are the fallback. The CSV export only has `tokens_*`, which are the billed counts there.
- Cached tokens are a subset of the prompt (OpenAI-style usage); a row whose cached count exceeds its
  prompt follows Anthropic's convention (prompt = uncached only) and gets the cache added back.
  Reasoning tokens are already inside completion tokens (OpenRouter bills them as completion).
- Money: `total_cost` (else `usage`, the credits charged) and CSV `cost_total`, all USD. Being the
  bill, it becomes `cost_usd` as it is (pricing's BILLING_GATEWAYS rule), free variants' 0 included.
- `created_at`: CSV naive "YYYY-MM-DD HH:MM:SS.mmm" meaning UTC; API ISO 8601.
- `cancelled` generations are still billed: status ok. `finish_reason` "error" -> status error.
- `user`/`external_user` -> user_hash; `api_key_name` (a name, never the key) -> key_alias;
  `app_name` -> label `app`. No bodies exist in either format.
The `/api/v1/activity` daily aggregates are not per request and are not read here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.privacy import pseudonymize
from tokenomics.sources import gateways as gw
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import text_or_null
from tokenomics.sources.text import names_fields

SOURCE = "openrouter"
TABLES = ("usage_events",)

S = pl.String
GENERATION_NAMES = (
    "id",
    "created_at",
    "model",
    "total_cost",
    "usage",
    "tokens_prompt",
    "tokens_completion",
    "native_tokens_prompt",
    "native_tokens_completion",
    "native_tokens_reasoning",
    "native_tokens_cached",
    "finish_reason",
    "external_user",
    "generation_time",
    "latency",
)
CSV_NAMES = (
    "generation_id",
    "cost_total",
    "tokens_reasoning",
    "tokens_cached",
    "model_permaslug",
    "user",
    "finish_reason_normalized",
    "generation_time_ms",
    "api_key_name",
    "app_name",
)
RECORD_FIELDS: dict[str, pl.DataType] = {
    **{name: S() for name in GENERATION_NAMES + CSV_NAMES},
    "data": pl.Struct({name: S for name in GENERATION_NAMES}),
}
"""One schema for both formats: the API's `data` object, or the same fields at top level, or CSV columns."""

CSV_REQUIRED = {"generation_id", "created_at", "model_permaslug", "tokens_prompt"}


def sniff(path: Path, head: bytes) -> bool:
    """The CSV export has its generation_id/model_permaslug header; generation JSON names native_tokens_prompt."""
    return names_fields(head, json_keys=("native_tokens_prompt", "tokens_prompt"), csv_columns=CSV_REQUIRED)


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one OpenRouter file."""
    yield from gw.read_logs(path, source=SOURCE, fields=RECORD_FIELDS, stage=stage_generations, chunk_rows=chunk_rows)


def stage_generations(frame: pl.DataFrame) -> Staged:
    """Generation records (text fields of `RECORD_FIELDS`) to staged usage_events."""

    def field(name: str) -> pl.Expr:
        """An API field from the `data` wrapper, else from the top level."""
        return pl.coalesce(text_or_null(pl.col("data").struct.field(name)), text_or_null(pl.col(name)))

    counts = {
        "prompt": pl.coalesce(field("native_tokens_prompt"), field("tokens_prompt")),
        "completion": pl.coalesce(field("native_tokens_completion"), field("tokens_completion")),
        "cached": pl.coalesce(field("native_tokens_cached"), text_or_null(pl.col("tokens_cached"))),
        "reasoning": pl.coalesce(field("native_tokens_reasoning"), text_or_null(pl.col("tokens_reasoning"))),
        "generation_ms": pl.coalesce(field("generation_time"), text_or_null(pl.col("generation_time_ms"))),
    }
    prompt, cached = pl.col("prompt").fill_null(0), pl.col("cached").fill_null(0)
    model = pl.coalesce(field("model"), text_or_null(pl.col("model_permaslug")))
    finish = pl.coalesce(field("finish_reason"), text_or_null(pl.col("finish_reason_normalized")))
    app = text_or_null(pl.col("app_name"))
    return gw.stage_usage(
        frame,
        counts=counts,
        timestamp=field("created_at"),
        columns={
            "event_id": pl.coalesce(field("id"), text_or_null(pl.col("generation_id"))),
            "provider": pl.lit(SOURCE),
            "vendor": gw.model_vendor(model),
            "model": model,
            "user_hash": pseudonymize(pl.coalesce(field("external_user"), text_or_null(pl.col("user")))),
            "input_tokens": pl.when(cached > prompt).then(prompt + cached).otherwise(prompt),
            "cache_read_tokens": cached,
            "output_tokens": pl.col("completion").fill_null(0),
            "reasoning_tokens": pl.col("reasoning").fill_null(0),
            "requests": pl.lit(1, pl.Int64),
            "status": pl.when(finish.str.to_lowercase() == "error").then(pl.lit("error")).otherwise(pl.lit("ok")),
            "latency_ms": pl.col("generation_ms"),
            "reported_cost_usd": pl.coalesce(field("total_cost"), field("usage"), text_or_null(pl.col("cost_total"))),
            "key_alias": text_or_null(pl.col("api_key_name")),
            "labels": pl.when(app.is_not_null())
            .then(pl.concat_list(pl.struct(pl.lit("app").alias("key"), app.alias("value"))))
            .otherwise(pl.lit([], pl.List(pl.Struct({"key": S, "value": S})))),
        },
    )
