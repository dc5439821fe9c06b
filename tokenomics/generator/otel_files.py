"""OTLP JSON traces as the collector `file` exporter writes them: one {"resourceSpans": [...]} object per line.

Per service: current GenAI conventions (gen_ai.provider.name, gen_ai.usage.input_tokens, cache_read /
cache_creation / reasoning counts) or deprecated ones (gen_ai.system, gen_ai.usage.prompt_tokens /
completion_tokens); int64 values as JSON strings or bare numbers; team/feature hints in resource or
span attributes (app.team, app.feature, service.namespace); gen_ai.response.id is the request id.
Batch requests carry the span attribute `app.batch` = true. Some spans carry gen_ai.input.messages:
a prompt body that readers must never store (it holds BODY_MARKER).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from tokenomics.generator.company import SERVICES, OtelService
from tokenomics.generator.ids import random_hex
from tokenomics.generator.litellm_files import conversation_id

SPANS_PER_LINE = 100  # the collector exports in batches
LINES_PER_FILE = 2_500
BODY_MARKER = "SYNTHETIC-PROMPT-BODY"
_CONTENT = json.dumps(
    json.dumps(
        [
            {
                "role": "user",
                "parts": [{"type": "text", "content": f"Review clause 7.2 of the attached NDA. {BODY_MARKER}"}],
            }
        ]
    )
)  # a JSON string value holding JSON text, as instrumentations without structured attributes emit it
RESPONSE_ID_PREFIX = {
    "openai": "chatcmpl-",
    "anthropic": "msg_01",
    "aws_bedrock": "msg_bdrk_01",
    "azure_openai": "chatcmpl-",
    "gcp_vertex": "",
}


def _lit(text: str) -> pl.Expr:
    return pl.lit(text, dtype=pl.String)


def _attr(key: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_str(_lit(f'{{"key":"{key}","value":'), value, _lit("}"))


def _string(value: pl.Expr | str) -> pl.Expr:
    value = _lit(value) if isinstance(value, str) else value
    return pl.concat_str(_lit('{"stringValue":"'), value, _lit('"}'))


def _int(value: pl.Expr, as_string: bool) -> pl.Expr:
    quote = '"' if as_string else ""
    return pl.concat_str(_lit('{"intValue":' + quote), value.cast(pl.String), _lit(quote + "}"))


def _optional(condition: pl.Expr, attribute: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(pl.concat_str(_lit(","), attribute)).otherwise(_lit(""))


def _attributes(service: OtelService, day: date, span_labels: dict[str, str]) -> pl.Expr:
    current = service.conventions == "current"
    ok = pl.col("ok")
    as_string = service.int_as_string
    caching = pl.col("cache_style").is_in(["anthropic", "openai", "implicit"])
    cache_write = pl.col("cache_style") == "anthropic"
    response_id = pl.concat_str(pl.col("response_prefix"), pl.col("uid"))
    parts = [
        _attr("gen_ai.operation.name", _string("chat")),
        _lit(","),
        _attr("gen_ai.provider.name", _string(pl.col("otel_provider")))
        if current
        else _attr("gen_ai.system", _string(pl.col("otel_system"))),
        _lit(","),
        _attr("gen_ai.request.model", _string(pl.col("model"))),
        _lit(","),
        _attr("gen_ai.response.model", _string(pl.col("model"))),
        _lit(","),
        _attr("gen_ai.response.id", _string(response_id)),
    ]
    for key, value in span_labels.items():
        parts += [_lit(","), _attr(key, _string(value))]
    parts.append(_optional(pl.col("session") >= 0, _attr("gen_ai.conversation.id", _string(conversation_id(day)))))
    parts.append(_optional(pl.col("is_batch"), _attr("app.batch", _lit('{"boolValue":true}'))))
    if current:
        parts += [
            _optional(ok, _attr("gen_ai.usage.input_tokens", _int(pl.col("input_tokens"), as_string))),
            _optional(ok, _attr("gen_ai.usage.output_tokens", _int(pl.col("output_tokens"), as_string))),
            _optional(
                ok & caching,
                _attr("gen_ai.usage.cache_read.input_tokens", _int(pl.col("cache_read_tokens"), as_string)),
            ),
            _optional(
                ok & cache_write,
                _attr("gen_ai.usage.cache_creation.input_tokens", _int(pl.col("cache_write_tokens"), as_string)),
            ),
            _optional(
                ok & (pl.col("reasoning_tokens") > 0),
                _attr("gen_ai.usage.reasoning.output_tokens", _int(pl.col("reasoning_tokens"), as_string)),
            ),
        ]
    else:
        parts += [
            _optional(ok, _attr("gen_ai.usage.prompt_tokens", _int(pl.col("input_tokens"), as_string))),
            _optional(ok, _attr("gen_ai.usage.completion_tokens", _int(pl.col("output_tokens"), as_string))),
        ]
    parts += [
        _optional(
            ok, _attr("gen_ai.response.finish_reasons", _lit('{"arrayValue":{"values":[{"stringValue":"stop"}]}}'))
        ),
        _optional(~ok, _attr("error.type", _string(pl.col("error_type")))),
        _optional(pl.col("with_content"), _attr("gen_ai.input.messages", _lit('{"stringValue":' + _CONTENT + "}"))),
    ]
    return pl.concat_str(parts)


def _spans(
    frame: pl.DataFrame, service: OtelService, day: date, span_labels: dict[str, str], rng: np.random.Generator
) -> pl.DataFrame:
    day_ns = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) * 1_000_000_000
    quote = '"' if service.int_as_string else ""
    start_ns = pl.lit(day_ns, pl.Int64) + pl.col("start_us") * 1000
    end_ns = start_ns + pl.col("latency_ms") * 1_000_000
    frame = frame.sort("start_us", "uid").with_columns(
        trace_id=random_hex(rng, frame.height, 16),
        span_id=random_hex(rng, frame.height, 8),
        error_type=pl.when(pl.col("provider") == "anthropic").then(_lit("overloaded_error")).otherwise(_lit("429")),
    )
    status = (
        pl.when(pl.col("ok"))
        .then(_lit('"status":{}'))
        .otherwise(_lit('"status":{"code":2,"message":"') + pl.col("error_type") + _lit('"}'))
    )
    span = pl.concat_str(
        _lit('{"traceId":"'),
        pl.col("trace_id"),
        _lit('","spanId":"'),
        pl.col("span_id"),
        _lit('","name":"chat '),
        pl.col("model"),
        _lit('","kind":3,"startTimeUnixNano":' + quote),
        start_ns.cast(pl.String),
        _lit(quote + ',"endTimeUnixNano":' + quote),
        end_ns.cast(pl.String),
        _lit(quote + ',"attributes":['),
        _attributes(service, day, span_labels),
        _lit("],"),
        status,
        _lit("}"),
    )
    return frame.select(pl.col("start_us"), span.alias("span"))


def _resource_prefix(service: OtelService) -> str:
    attributes = [{"key": "service.name", "value": {"stringValue": service.name}}]
    attributes += [{"key": k, "value": {"stringValue": v}} for k, v in service.resource.items()]
    attributes.append({"key": "telemetry.sdk.language", "value": {"stringValue": "python"}})
    resource = json.dumps({"attributes": attributes}, separators=(",", ":"))
    scope = json.dumps({"name": service.scope, "version": "0.48b0"}, separators=(",", ":"))
    return '{"resourceSpans":[{"resource":' + resource + ',"scopeSpans":[{"scope":' + scope + ',"spans":['


def otel_lines(events: pl.DataFrame, day: date, rng: np.random.Generator) -> pl.DataFrame:
    """One line per exported batch of spans of one service, ordered by the batch's first span."""
    otel = events.filter(pl.col("channel") == "otel").with_columns(
        response_prefix=pl.col("provider").replace_strict(RESPONSE_ID_PREFIX, return_dtype=pl.String),
        with_content=pl.col("content_roll") < pl.col("content_share"),
    )
    batches = []
    for name in sorted(otel["service"].unique().to_list()):
        service = SERVICES[name]
        rows = otel.filter(pl.col("service") == name)
        labels_by_stream = rows.select("stream", "span_labels").unique("stream").sort("stream")
        for stream, labels in labels_by_stream.iter_rows():
            part = rows.filter(pl.col("stream") == stream)
            spans = _spans(part, service, day, json.loads(labels), rng)
            batches.append(spans.with_columns(service=_lit(name), stream=pl.lit(stream)))
    if not batches:
        return pl.DataFrame(schema={"line": pl.String})
    spans = pl.concat(batches).sort("service", "start_us", "stream")
    prefix = {name: _resource_prefix(SERVICES[name]) for name in SERVICES}
    lines = (
        spans.with_columns(chunk=pl.int_range(pl.len()).over("service") // SPANS_PER_LINE)
        .group_by("service", "chunk", maintain_order=True)
        .agg(pl.col("start_us").first(), pl.col("span").str.join(","))
        .sort("start_us", "service")
    )
    return lines.select(
        pl.concat_str(
            pl.col("service").replace_strict(prefix, return_dtype=pl.String), pl.col("span"), _lit("]}]}]}")
        ).alias("line")
    )


def write_otel_day(
    events: pl.DataFrame, day: date, folder: Path, rng: np.random.Generator, first_part: int = 0
) -> list[Path]:
    """Write one day of directly-instrumented traffic as collector file-exporter JSONL parts (numbered
    on from `first_part` when a big day is written slice by slice)."""
    lines = otel_lines(events, day, rng)
    if lines.height == 0:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for part, lo in enumerate(range(0, lines.height, LINES_PER_FILE), start=first_part):
        path = folder / f"traces_{part:03d}.jsonl"
        lines.slice(lo, LINES_PER_FILE).write_csv(path, include_header=False, quote_style="never")
        written.append(path)
    return written
