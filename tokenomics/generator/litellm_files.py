"""LiteLLM proxy SpendLogs rows (formats.md 7.1-7.4): JSONL from one deployment, a CSV table export from another.

Traps written on purpose: `metadata` and `request_tags` are JSON-encoded strings, `cache_hit` is a string,
timestamps are naive UTC text, `spend` is a float, and for Anthropic models `prompt_tokens` includes the
cache read and cache write tokens (the split is only in metadata.usage_object). Batch requests (logged when LiteLLM
retrieves the batch results) have call_type `aretrieve_batch`, a non-empty `metadata.batch_models`
and `metadata.spend_logs_metadata.batch_id`; their spend is the batch price (half the list price).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl

from tokenomics.generator.ids import as_uuid

JSONL_DEPLOYMENT = "proxy-us"  # writes its SpendLogs payloads as JSON lines
CSV_DEPLOYMENT = "proxy-eu"  # its SpendLogs table is exported as CSV
PART_ROWS = 250_000
MAX_RETRIES = 3

_INT = pl.Int64
_NULL_INT = pl.lit(None, _INT)


def conversation_id(day: date) -> pl.Expr:
    """Client-supplied conversation id, unique across days: conv-YYYYMMDD-<session>."""
    return pl.format("conv-{}-{}", pl.lit(day.strftime("%Y%m%d")), pl.col("session").cast(pl.String).str.zfill(6))


def _timestamp(day: date, offset_us: pl.Expr) -> pl.Expr:
    base = pl.lit(datetime(day.year, day.month, day.day), dtype=pl.Datetime("us"))
    return (base + pl.duration(microseconds=offset_us)).dt.strftime("%Y-%m-%d %H:%M:%S%.6f")


def _usage_object() -> pl.Expr:
    anthropic = pl.col("cache_style") == "anthropic"

    def when_anthropic(col: str) -> pl.Expr:
        return pl.when(anthropic).then(pl.col(col)).otherwise(_NULL_INT)

    return pl.struct(
        pl.col("output_tokens").alias("completion_tokens"),
        pl.col("input_tokens").alias("prompt_tokens"),
        (pl.col("input_tokens") + pl.col("output_tokens")).alias("total_tokens"),
        pl.struct(
            _NULL_INT.alias("accepted_prediction_tokens"),
            _NULL_INT.alias("audio_tokens"),
            pl.col("reasoning_tokens"),
            _NULL_INT.alias("rejected_prediction_tokens"),
        ).alias("completion_tokens_details"),
        pl.struct(
            _NULL_INT.alias("audio_tokens"),
            pl.col("cache_read_tokens").alias("cached_tokens"),
            when_anthropic("cache_write_tokens").alias("cache_creation_tokens"),
        ).alias("prompt_tokens_details"),
        when_anthropic("cache_write_tokens").alias("cache_creation_input_tokens"),
        when_anthropic("cache_read_tokens").alias("cache_read_input_tokens"),
    )


def _error_information() -> pl.Expr:
    overloaded = pl.col("provider") == "anthropic"
    return pl.struct(
        pl.when(overloaded).then(pl.lit("529")).otherwise(pl.lit("429")).alias("error_code"),
        pl.when(overloaded)
        .then(pl.lit("InternalServerError"))
        .otherwise(pl.lit("RateLimitError"))
        .alias("error_class"),
        pl.col("litellm_provider").alias("llm_provider"),
        pl.when(overloaded)
        .then(pl.lit("AnthropicException - Overloaded"))
        .otherwise(pl.lit("Rate limit reached for requests"))
        .alias("error_message"),
    )


def _metadata(day: date) -> pl.Expr:
    ok = pl.col("ok")
    batch = pl.col("is_batch")
    batch_id = pl.format(
        "batch_{}{}{}",
        pl.lit(day.strftime("%Y%m%d")),
        pl.col("stream").cast(pl.String).str.zfill(3),
        (pl.col("start_us") // 3_600_000_000).cast(pl.String).str.zfill(2),
    )
    return pl.struct(
        pl.col("key_hash").alias("user_api_key"),
        pl.col("key_alias").alias("user_api_key_alias"),
        pl.col("team_id").alias("user_api_key_team_id"),
        pl.col("team_alias").alias("user_api_key_team_alias"),
        pl.lit(None, pl.String).alias("user_api_key_org_id"),
        pl.col("key_user").alias("user_api_key_user_id"),
        pl.when(batch).then(pl.struct(batch_id.alias("batch_id"))).otherwise(None).alias("spend_logs_metadata"),
        pl.col("requester_ip").alias("requester_ip_address"),
        pl.when(ok).then(pl.lit("success")).otherwise(pl.lit("failure")).alias("status"),
        pl.when(~ok).then(_error_information()).otherwise(None).alias("error_information"),
        pl.when(ok).then(_usage_object()).otherwise(None).alias("usage_object"),
        pl.when(batch).then(pl.concat_list(pl.col("model"))).otherwise(None).alias("batch_models"),
        pl.col("retries").alias("attempted_retries"),
        pl.lit(MAX_RETRIES).alias("max_retries"),
    ).struct.json_encode()


def spend_log_rows(events: pl.DataFrame, day: date) -> pl.DataFrame:
    """SpendLogs columns, in LiteLLM's order, for gateway requests (events joined with stream attributes)."""
    request_uuid = as_uuid(pl.col("uid"))
    cached_proxy = pl.col("deployment") == CSV_DEPLOYMENT
    return events.sort("start_us", "uid").select(
        pl.concat_str(pl.lit("chatcmpl-"), request_uuid).alias("request_id"),
        pl.when(pl.col("session") >= 0).then(conversation_id(day)).otherwise(request_uuid).alias("session_id"),
        pl.when(pl.col("kind") == "embedding")
        .then(pl.lit("aembedding"))
        .when(pl.col("is_batch"))
        .then(pl.lit("aretrieve_batch"))
        .otherwise(pl.lit("acompletion"))
        .alias("call_type"),
        pl.col("key_hash").alias("api_key"),
        pl.when(cached_proxy).then(pl.lit("False")).otherwise(pl.lit("None")).alias("cache_hit"),
        _timestamp(day, pl.col("start_us")).alias("startTime"),
        _timestamp(day, pl.col("start_us") + pl.col("latency_ms") * 1000).alias("endTime"),
        _timestamp(day, pl.col("start_us") + pl.col("ttft_ms") * 1000).alias("completionStartTime"),
        pl.col("latency_ms").alias("request_duration_ms"),
        pl.col("model"),
        pl.col("key_user").alias("user"),
        pl.col("team_id").fill_null("").alias("team_id"),
        pl.lit("").alias("organization_id"),
        _metadata(day).alias("metadata"),
        pl.when(cached_proxy).then(pl.lit("")).otherwise(pl.lit("Cache OFF")).alias("cache_key"),
        pl.col("spend"),
        (pl.col("input_tokens") + pl.col("output_tokens")).alias("total_tokens"),
        pl.col("input_tokens").alias("prompt_tokens"),
        pl.col("output_tokens").alias("completion_tokens"),
        pl.col("request_tags"),
        pl.when(pl.col("end_user") >= 0)
        .then(pl.concat_str(pl.lit("cust-"), pl.col("end_user").cast(pl.String).str.zfill(6)))
        .otherwise(pl.lit(""))
        .alias("end_user"),
        pl.col("api_base"),
        pl.col("model_group"),
        pl.col("deployment_id").alias("model_id"),
        pl.col("requester_ip").alias("requester_ip_address"),
        pl.col("litellm_provider").alias("custom_llm_provider"),
        pl.lit("{}").alias("messages"),
        pl.lit("{}").alias("response"),
        pl.lit("{}").alias("proxy_server_request"),
        pl.when(pl.col("ok")).then(pl.lit("success")).otherwise(pl.lit("failure")).alias("status"),
        pl.lit(None, pl.String).alias("mcp_namespaced_tool_name"),
        pl.lit(None, pl.String).alias("agent_id"),
    )


def write_litellm_day(events: pl.DataFrame, day: date, folder: Path, first_part: int = 0) -> list[Path]:
    """Write one day of LiteLLM traffic: JSONL parts for proxy-us, one CSV table export for proxy-eu.

    A day generated in slices calls this once per slice: JSONL parts are numbered on from `first_part`
    and rows are appended to the one CSV export (its header written once)."""
    litellm = events.filter(pl.col("channel") == "litellm")
    if litellm.height == 0:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    jsonl = spend_log_rows(litellm.filter(pl.col("deployment") == JSONL_DEPLOYMENT), day)
    for part, lo in enumerate(range(0, jsonl.height, PART_ROWS), start=first_part):
        path = folder / f"spend_logs_{JSONL_DEPLOYMENT}_{part:03d}.jsonl"
        jsonl.slice(lo, PART_ROWS).write_ndjson(path)
        written.append(path)
    del jsonl
    csv = spend_log_rows(litellm.filter(pl.col("deployment") == CSV_DEPLOYMENT), day)
    if csv.height:
        path = folder / f"spend_logs_{CSV_DEPLOYMENT}.csv"
        if path.exists():
            with open(path, "ab") as fh:
                csv.write_csv(fh, include_header=False)
        else:
            csv.write_csv(path)
        written.append(path)
    return written
