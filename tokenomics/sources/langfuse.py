"""Langfuse observations export (public API `/api/public/observations` objects as JSON lines or a JSON document)
and Langfuse ingestion API bodies (`{"batch": [...], "metadata": {...}}`, as LiteLLM and the SDKs send them).

Traps handled here (reference/formats.md sections 9.5 and 11):
- Only GENERATION observations are LLM calls: SPAN, EVENT and the v3 agent/tool/... types are skipped and
  counted. An observation without `type` (legacy generations-only exports) is read as a generation.
- Token keys: `usageDetails` (since Dec 2024; arbitrary keys) else the deprecated `usage{input,output,total}`.
  Langfuse prices every usage key separately and, when no `total` is sent, sums all keys into one: its
  own integrations therefore send *disjoint* keys (`input` = uncached input, cache reads under
  `input_cached_tokens`/`cache_read_input_tokens`/`input_cache_read`, writes under
  `cache_creation_input_tokens`/`input_cache_creation`, reasoning under `output_reasoning_tokens`/
  `reasoning_tokens`). We store OTel-inclusive columns, see `_inclusive`: when `total` equals
  input + output the integration already sent inclusive counts (OTel style) and they are kept;
  otherwise the keys are read as disjoint and cache/reasoning are added into input/output.
  Two cache-read keys are the same tokens: the larger is taken, never the sum.
- Cost: `costDetails.total`, else `calculatedTotalCost`, else `totalCost`, in USD, as reported cost.
- `level` ERROR -> status error; `latency` is in **seconds**; `startTime` ISO 8601 (naive means UTC).
- `metadata` (object or JSON text) -> labels (string values under harmless keys); `userId` -> user_hash.
- Bodies (`input`, `output`, `statusMessage`) are never read. Snake_case blob exports
  (`trace_id`, `start_time`, `usage_details`, `cost_details`, `total_cost`) are accepted too.
- Ingestion batches: the envelope is not an observation (read as one, it used to land in quarantine
  as `missing_event_id`, with the SDK's `public_key` in its raw record). Its events are read instead,
  see `_unbatch`: `generation-create` bodies (and `observation-create` of type GENERATION) are the
  generations; a `generation-update` of the same body id in the file fills in what the create left
  out (usage, cost, level arrive at the end); an update whose create is not in the file is
  quarantined as `orphan_generation_update`. A `trace-create` lends its `userId`, `metadata` and
  `tags` to the trace's generations. Every other event (`trace-create`, `span-create`, `score-create`,
  `sdk-log`, ...) and each merged update is counted as skipped. The envelope's `metadata` (SDK name,
  `public_key`) is never read. Quarantine `line` is the line of the envelope in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.privacy import pseudonymize
from tokenomics.sources import gateways as gw
from tokenomics.sources.labels import json_object_labels
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import text_or_null
from tokenomics.sources.text import names_fields

SOURCE = "langfuse"
TABLES = ("usage_events",)

S = pl.String
USAGE_KEYS = (
    "input",
    "output",
    "total",
    "input_cached_tokens",
    "cache_read_input_tokens",
    "input_cache_read",
    "cache_creation_input_tokens",
    "input_cache_creation",
    "output_reasoning_tokens",
    "reasoning_tokens",
)
USAGE = pl.Struct({key: S for key in USAGE_KEYS})
COST = pl.Struct({"total": S})
OBSERVATION_FIELDS: dict[str, pl.DataType] = {
    **{
        name: S()
        for name in (
            "id",
            "traceId",
            "trace_id",
            "type",
            "startTime",
            "start_time",
            "model",
            "level",
            "latency",
            "calculatedTotalCost",
            "totalCost",
            "total_cost",
            "metadata",
            "userId",
            "user_id",
            "environment",
        )
    },
    "tags": pl.List(S),
    "usageDetails": USAGE,
    "usage_details": USAGE,
    "usage": USAGE,
    "costDetails": COST,
    "cost_details": COST,
}
"""Fields read from an observation; bodies (`input`, `output`) are never parsed."""

INGESTION_EVENT = pl.Struct({"type": S, "body": pl.Struct(OBSERVATION_FIELDS)})
RECORD_FIELDS: dict[str, pl.DataType] = {**OBSERVATION_FIELDS, "batch": pl.List(INGESTION_EVENT)}
"""An observation, or an ingestion API body whose `batch` events carry observation-shaped bodies."""

GENERATION_EVENTS = ("generation-create", "generation-update")
OBSERVATION_EVENTS = ("observation-create", "observation-update")
ORPHAN_UPDATE = "orphan_generation_update"


def sniff(path: Path, head: bytes) -> bool:
    """JSON observations name traceId and startTime (snake_case exports: trace_id, start_time, usage_details)."""
    camel = names_fields(head, json_keys=("traceId", "startTime"))
    snake = names_fields(head, json_keys=("trace_id", "start_time", "usage_details"))
    batch = names_fields(head, json_keys=("batch",)) and (b'"generation-create"' in head or b'"trace-create"' in head)
    return camel or snake or batch


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one observations export or ingestion API body file."""
    yield from gw.read_logs(path, source=SOURCE, fields=RECORD_FIELDS, stage=_stage_records, chunk_rows=chunk_rows)


def _stage_records(frame: pl.DataFrame) -> Staged:
    observations, skipped = _unbatch(frame)
    return stage_observations(observations, skipped=skipped)


def _unbatch(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Observations of a chunk: plain records as they are, ingestion batches replaced by their generations.

    Returns the frame (`OBSERVATION_FIELDS`, `_line`, `_reject`, `_trace_metadata`) and how many batch
    events were skipped (not generations, or updates merged into their create).
    """
    in_batch = pl.col("batch").is_not_null() & pl.col("_reject").is_null()
    plain = frame.filter(~in_batch).drop("batch").with_columns(pl.lit(None, S).alias("_trace_metadata"))
    if plain.height == frame.height:
        return plain, 0
    events = (
        frame.filter(in_batch)
        .select("batch", "_line")
        .explode("batch")
        .filter(pl.col("batch").is_not_null())
        .select(
            pl.col("batch").struct.field("type").str.to_lowercase().alias("_event"),
            pl.col("batch").struct.field("body").struct.unnest(),
            "_line",
        )
    )
    kind = text_or_null(pl.col("type")).str.to_uppercase()
    is_generation = pl.col("_event").is_in(GENERATION_EVENTS) | (
        pl.col("_event").is_in(OBSERVATION_EVENTS) & (kind == "GENERATION")
    )
    generations = events.filter(is_generation)
    with_id = generations.filter(pl.col("id").is_not_null())
    merged = with_id.group_by("id", maintain_order=True).agg(
        pl.col("_line").first(),
        pl.col("_event").first().str.ends_with("-update").alias("_orphan"),
        *(pl.col(name).drop_nulls().last() for name in OBSERVATION_FIELDS if name != "id"),
    )
    traces = (
        events.filter(pl.col("_event") == "trace-create")
        .select(
            pl.col("id").alias("traceId"),
            pl.col("userId").alias("_trace_user"),
            pl.col("metadata").alias("_trace_metadata"),
            pl.col("tags").alias("_trace_tags"),
        )
        .filter(pl.col("traceId").is_not_null())
        .unique("traceId", keep="last", maintain_order=True)
    )
    batched = (
        pl.concat([merged, generations.filter(pl.col("id").is_null()).drop("_event")], how="diagonal_relaxed")
        .join(traces, on="traceId", how="left", maintain_order="left")
        .with_columns(
            pl.lit("GENERATION").alias("type"),
            pl.coalesce("userId", "_trace_user").alias("userId"),
            pl.coalesce("tags", "_trace_tags").alias("tags"),
            pl.when(pl.col("_orphan").fill_null(False)).then(pl.lit(ORPHAN_UPDATE)).alias("_reject"),
        )
        .select(*plain.columns)
    )
    skipped = events.height - batched.height
    return pl.concat([plain, batched], how="vertical_relaxed").sort("_line", maintain_order=True), skipped


def stage_observations(frame: pl.DataFrame, skipped: int = 0) -> Staged:
    """GENERATION observations (text fields of `OBSERVATION_FIELDS`) to staged usage_events.

    `skipped` counts rows already left out before (batch events that are not generations).
    """
    if "_trace_metadata" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, S).alias("_trace_metadata"))
    kind = text_or_null(pl.col("type")).str.to_uppercase()
    other = pl.col("_reject").is_null() & kind.is_not_null() & (kind != "GENERATION")
    skipped += frame.select(other.sum()).item()
    frame = frame.filter(~other)
    frame = frame.with_columns(
        pl.concat_list(json_object_labels(frame["metadata"]), json_object_labels(frame["_trace_metadata"])).alias(
            "_labels"
        )
    )

    usage = pl.coalesce(pl.col("usageDetails"), pl.col("usage_details"), pl.col("usage"))
    key = usage.struct.field
    counts = {
        "u_input": key("input"),
        "u_output": key("output"),
        "u_total": key("total"),
        "read_cached": key("input_cached_tokens"),
        "read_anthropic": key("cache_read_input_tokens"),
        "read_input": key("input_cache_read"),
        "write_anthropic": key("cache_creation_input_tokens"),
        "write_input": key("input_cache_creation"),
        "reasoning_output": key("output_reasoning_tokens"),
        "reasoning_plain": key("reasoning_tokens"),
    }
    read = pl.max_horizontal("read_cached", "read_anthropic", "read_input").fill_null(0)
    write = pl.max_horizontal("write_anthropic", "write_input").fill_null(0)
    reasoning = pl.max_horizontal("reasoning_output", "reasoning_plain").fill_null(0)
    input_tokens, output_tokens = _inclusive(
        pl.col("u_input").fill_null(0), pl.col("u_output").fill_null(0), pl.col("u_total"), read + write, reasoning
    )
    level = text_or_null(pl.col("level")).str.to_uppercase()
    return gw.stage_usage(
        frame,
        counts=counts,
        timestamp=pl.coalesce(text_or_null(pl.col("startTime")), text_or_null(pl.col("start_time"))),
        skipped=skipped,
        columns={
            "event_id": text_or_null(pl.col("id")),
            "provider": gw.vendor_provider(pl.col("model")),
            "vendor": gw.model_vendor(pl.col("model")),
            "model": gw.bare_model(pl.col("model")),
            "user_hash": pseudonymize(pl.coalesce(text_or_null(pl.col("userId")), text_or_null(pl.col("user_id")))),
            "input_tokens": input_tokens,
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "output_tokens": output_tokens,
            "reasoning_tokens": reasoning,
            "requests": pl.lit(1, pl.Int64),
            "status": pl.when(level == "ERROR").then(pl.lit("error")).otherwise(pl.lit("ok")),
            "latency_ms": gw.seconds_to_ms(pl.col("latency")),
            "reported_cost_usd": pl.coalesce(
                text_or_null(pl.col("costDetails").struct.field("total")),
                text_or_null(pl.col("cost_details").struct.field("total")),
                text_or_null(pl.col("calculatedTotalCost")),
                text_or_null(pl.col("totalCost")),
                text_or_null(pl.col("total_cost")),
            ),
            "labels": pl.col("_labels"),
            "request_tags": pl.col("tags"),
        },
    )


def _inclusive(
    input_: pl.Expr, output: pl.Expr, total: pl.Expr, cache: pl.Expr, reasoning: pl.Expr
) -> tuple[pl.Expr, pl.Expr]:
    """(input incl. cache, output incl. reasoning) under whichever convention `total` confirms.

    total == input + output: inclusive already (OTel style, e.g. an OTel span ingested by Langfuse).
    total == input + output + reasoning: input inclusive, reasoning sent outside output; and the
    mirror case for cache. Otherwise, including no total at all, Langfuse's own disjoint convention.
    An inclusive row sent without `total` cannot be told apart and is over-counted by its cache
    tokens; a disjoint reading where input < cache would have been impossible inclusive, so the
    ambiguity only exists for integrations that break Langfuse's convention.
    """
    input_in = (total == input_ + output) | (total == input_ + output + reasoning)
    output_in = (total == input_ + output) | (total == input_ + cache + output)
    return (
        pl.when(input_in.fill_null(False)).then(input_).otherwise(input_ + cache),
        pl.when(output_in.fill_null(False)).then(output).otherwise(output + reasoning),
    )
