"""OpenTelemetry GenAI spans in OTLP/JSON (collector file exporter: one {"resourceSpans": [...]} per line).

Traps handled here (reference/formats.md sections 8 and 11):
- resourceSpans[].scopeSpans[].spans[] are exploded; attributes are key/value lists with AnyValue
  wrappers (stringValue, intValue as a JSON string or number, doubleValue, boolValue): every scalar is
  read as text, then pivoted by key, vectorized (arrayValue/kvlistValue, e.g. finish_reasons, are not read).
- Current and deprecated names: gen_ai.provider.name / gen_ai.system, gen_ai.usage.input_tokens /
  prompt_tokens, output_tokens / completion_tokens, cache_read / cache_creation, reasoning, and the
  vendor keys seen in the wild (OpenLLMetry, OpenInference). The first name present wins (`ATTRIBUTES`).
- Tokens follow the OTel convention as emitted (input includes cache read+write, output includes
  reasoning); a span whose cache tokens exceed its input is quarantined by normalize, not repaired.
- startTimeUnixNano / endTimeUnixNano as a string or a number; 0 means unset.
- event_id = gen_ai.response.id, else traceId-spanId (lowercase hex): the same call reported by two
  instrumentations (framework + SDK) shares its response id and is deduplicated.
- status.code 2 (or "STATUS_CODE_ERROR", or an error.type attribute) = error.
- Spans without token usage (HTTP, DB, framework spans) are skipped and counted, except LLM calls that
  failed (kept with zero tokens: they are errors worth counting). Agent, workflow and tool spans are
  skipped even with usage: their usage sums the child LLM spans, which are counted themselves.
- Labels: the string attributes of the span, then of its resource, except bodies (gen_ai.input.messages,
  gen_ai.output.messages, gen_ai.system_instructions, gen_ai.tool.definitions, any content key),
  secrets and personal ids (see `tokenomics.sources.labels`).

Hint columns: project = gen_ai.project / gen_ai.project.id / project.id / cloud.account.id (span or
resource); user_hash = HMAC of user.id / enduser.id; gateway_team, key_alias and api_key_id from the
`metadata.user_api_key_*` attributes LiteLLM's OTel callback writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.privacy import pseudonymize
from tokenomics.providers import normalize_provider
from tokenomics.sources.labels import keep_label
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import parse_bool, parse_count, text_or_null, unparsed, with_counts
from tokenomics.sources.text import iter_json_records

SOURCE = "otel"
TABLES = ("usage_events",)

S = pl.String
ANY_VALUE = pl.Struct({"stringValue": S, "intValue": S, "doubleValue": S, "boolValue": S})
"""Scalar AnyValue variants; arrayValue, kvlistValue and bytesValue are never attribution hints or counts."""
ATTRIBUTE_LIST = pl.List(pl.Struct({"key": S, "value": ANY_VALUE}))
SPAN = pl.Struct(
    {
        "traceId": S,
        "spanId": S,
        "startTimeUnixNano": S,
        "endTimeUnixNano": S,
        "attributes": ATTRIBUTE_LIST,
        "status": pl.Struct({"code": S}),
    }
)
OTLP_TRACES: dict[str, pl.DataType] = {
    "resourceSpans": pl.List(
        pl.Struct(
            {
                "resource": pl.Struct({"attributes": ATTRIBUTE_LIST}),
                "scopeSpans": pl.List(pl.Struct({"spans": pl.List(SPAN)})),
            }
        )
    )
}
"""The parts of an OTLP/JSON traces record this reader uses; span names and events are never read."""

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "operation": ("gen_ai.operation.name",),
    "provider": ("gen_ai.provider.name", "gen_ai.system"),
    "model": ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name"),
    "response_id": ("gen_ai.response.id",),
    "input_tokens": (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt",
        "llm.usage.prompt_tokens",
    ),
    "output_tokens": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
        "llm.usage.completion_tokens",
    ),
    "cache_read_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.cache_read_tokens",
        "gen_ai.usage.cached_tokens",
        "llm.token_count.prompt_details.cache_read",
    ),
    "cache_write_tokens": (
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.cache_write_tokens",
        "llm.token_count.prompt_details.cache_write",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ),
    "service_tier": (
        "openai.response.service_tier",
        "gen_ai.openai.response.service_tier",
        "openai.request.service_tier",
        "gen_ai.openai.request.service_tier",
    ),
    "batch": ("gen_ai.request.batch", "openai.request.batch", "app.batch"),
    "error_type": ("error.type",),
    "project": ("gen_ai.project", "gen_ai.project.id", "project.id", "cloud.account.id"),
    "user": ("user.id", "enduser.id"),
    "gateway_team": ("metadata.user_api_key_team_id", "metadata.user_api_key_team_alias"),
    "key_alias": ("metadata.user_api_key_alias",),
    "api_key_id": ("metadata.user_api_key_hash",),
}
"""Canonical meaning -> attribute names, current convention first, deprecated and vendor names after."""

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
LLM_OPERATIONS = ("chat", "text_completion", "generate_content", "embeddings", "completion")
AGGREGATE_OPERATIONS = ("invoke_agent", "create_agent", "invoke_workflow", "execute_tool")


def sniff(path: Path, head: bytes) -> bool:
    """OTLP/JSON traces: a JSON object with resourceSpans."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{" and b'"resourceSpans"' in head


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks, one row per LLM span (chunk_rows counts file lines)."""
    for records in iter_json_records(Path(path), source=SOURCE, schema=OTLP_TRACES, chunk_rows=chunk_rows):
        yield stage_spans(records)


def stage_spans(records: pl.DataFrame) -> Staged:
    """Map OTLP records (`OTLP_TRACES` + `_line`, `_reject`) to staged usage_events, one row per LLM span."""
    rejected = records.filter(pl.col("_reject").is_not_null()).select("_line", "_reject")
    spans = explode_spans(records.filter(pl.col("_reject").is_null()))
    attrs = pivot_attributes(spans)
    is_usage = pl.any_horizontal([pl.col(f).is_not_null() for f in TOKEN_FIELDS])
    status_error = pl.col("status_code").str.strip_chars().is_in(["2", "STATUS_CODE_ERROR"]).fill_null(False)
    failed = status_error | pl.col("error_type").is_not_null()
    operation = pl.col("operation").str.to_lowercase()
    keep = (is_usage & ~operation.is_in(AGGREGATE_OPERATIONS).fill_null(False)) | (
        operation.is_in(LLM_OPERATIONS).fill_null(False) & failed
    )
    attrs = attrs.with_columns(keep.alias("_keep"), failed.alias("_failed"))
    skipped = attrs.height - attrs["_keep"].sum()
    llm = with_counts(attrs.filter(pl.col("_keep")), {f: pl.col(f) for f in TOKEN_FIELDS})

    start = parse_count(pl.col("startTimeUnixNano"))
    end = parse_count(pl.col("endTimeUnixNano"))
    ts = pl.when(start > 0).then((start // 1000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
    reject = pl.coalesce(
        unparsed(pl.col("startTimeUnixNano"), start, "unparseable_timestamp"),
        pl.when(pl.col("_bad_count")).then(pl.lit("bad_token_count")),
    )
    span_id = pl.concat_str(pl.col("traceId").str.to_lowercase(), pl.lit("-"), pl.col("spanId").str.to_lowercase())
    staged = llm.select(
        pl.coalesce(text_or_null(pl.col("response_id")), span_id).alias("event_id"),
        ts.alias("ts"),
        normalize_provider(pl.col("provider").fill_null("")).alias("provider"),
        text_or_null(pl.col("model")).alias("model"),
        text_or_null(pl.col("project")).alias("project"),
        text_or_null(pl.col("api_key_id")).alias("api_key_id"),
        pseudonymize(text_or_null(pl.col("user"))).alias("user_hash"),
        *TOKEN_FIELDS,
        pl.lit(1, pl.Int64).alias("requests"),
        text_or_null(pl.col("service_tier")).str.to_lowercase().alias("service_tier"),
        parse_bool(pl.col("batch")).fill_null(False).alias("is_batch"),
        pl.when(pl.col("_failed")).then(pl.lit("error")).otherwise(pl.lit("ok")).alias("status"),
        pl.when((start > 0) & (end >= start)).then((end - start) // 1_000_000).alias("latency_ms"),
        text_or_null(pl.col("gateway_team")).alias("gateway_team"),
        text_or_null(pl.col("key_alias")).alias("key_alias"),
        pl.col("labels"),
        pl.col("_line"),
        reject.alias("_reject"),
    )
    frame = pl.concat([staged, rejected], how="diagonal_relaxed")
    return Staged("usage_events", frame, skipped=int(skipped))


def explode_spans(records: pl.DataFrame) -> pl.DataFrame:
    """One row per span: its ids, times, status code, attributes, resource attributes and `_line`."""
    return (
        records.select("_line", "resourceSpans")
        .explode("resourceSpans")
        .filter(pl.col("resourceSpans").is_not_null())
        .select(
            "_line",
            pl.col("resourceSpans").struct.field("resource").struct.field("attributes").alias("resource_attributes"),
            pl.col("resourceSpans").struct.field("scopeSpans"),
        )
        .explode("scopeSpans")
        .select("_line", "resource_attributes", pl.col("scopeSpans").struct.field("spans"))
        .explode("spans")
        .filter(pl.col("spans").is_not_null())
        .select(
            "_line",
            "resource_attributes",
            *[
                pl.col("spans").struct.field(f)
                for f in ("traceId", "spanId", "startTimeUnixNano", "endTimeUnixNano", "attributes")
            ],
            pl.col("spans").struct.field("status").struct.field("code").alias("status_code"),
        )
        .with_row_index("_span")
    )


def pivot_attributes(spans: pl.DataFrame) -> pl.DataFrame:
    """`spans` plus one text column per `ATTRIBUTES` meaning (span attribute first, then resource) and labels."""
    names = list(dict.fromkeys(name for names in ATTRIBUTES.values() for name in names))
    long = pl.concat([_long_attributes(spans, "attributes"), _long_attributes(spans, "resource_attributes")])
    # first value per (span, name): span attributes were stacked before resource ones
    by_name = long.filter(pl.col("key").is_in(names) & pl.col("text").is_not_null()).pivot(
        on="key", on_columns=names, index="_span", values="text", aggregate_function="first"
    )
    by_meaning = by_name.select(
        "_span", *[pl.coalesce(*names_).alias(meaning) for meaning, names_ in ATTRIBUTES.items()]
    )
    return (
        spans.join(by_meaning, on="_span", how="left")
        .join(_labels(long), on="_span", how="left")
        .with_columns(pl.col("labels").fill_null([]))
    )


def _long_attributes(spans: pl.DataFrame, column: str) -> pl.DataFrame:
    """One row per (span, attribute): key, scalar value as text, and the string value alone (for labels)."""
    value = pl.col(column).struct.field("value")
    return (
        spans.select("_span", column)
        .explode(column)
        .filter(pl.col(column).is_not_null())
        .select(
            "_span",
            pl.col(column).struct.field("key"),
            pl.coalesce(
                value.struct.field("stringValue"),
                value.struct.field("intValue"),
                value.struct.field("doubleValue"),
                value.struct.field("boolValue"),
            ).alias("text"),
            value.struct.field("stringValue").alias("string"),
        )
    )


def _labels(long: pl.DataFrame) -> pl.DataFrame:
    """Per span: span then resource string attributes as {key, value}, without bodies, secrets or personal ids."""
    label = pl.struct(pl.col("key"), pl.col("string").alias("value"))
    return (
        long.with_columns(label.alias("label"))
        .filter(keep_label(pl.col("label")))
        .group_by("_span", maintain_order=True)
        .agg(pl.col("label").alias("labels"))
    )
