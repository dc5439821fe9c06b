"""LiteLLM proxy spend logs (LiteLLM_SpendLogs rows as JSON lines, a JSON array or the table's CSV export).

Traps handled here (reference/formats.md sections 7 and 11):
- `metadata` and `request_tags` are JSON-encoded strings in logging payloads but real JSON objects and
  lists in Postgres exports (and JSON text in the CSV export): both are read as text, then decoded.
- `startTime` is naive "YYYY-MM-DD HH:MM:SS.ffffff" meaning UTC; ISO 8601 with an offset and float
  epoch seconds (StandardLoggingPayload) are accepted too.
- `spend` is a binary float with artefacts (0.00022500000000000002). It is read as the text LiteLLM
  wrote (Python's shortest round-trip repr, never re-formatted through our own float) and cast to
  Decimal(38, 12) by normalize, so the artefact rounds away exactly.
- `cache_hit` is the string "True"/"False"/"None". A row served from LiteLLM's own response cache never
  reached a provider (no provider tokens, no bill): it is skipped and counted, like a non-LLM line.
- Cache tokens (section 7.4): `metadata.usage_object` carries the split: cache reads as
  `cache_read_input_tokens` or `prompt_tokens_details.cached_tokens` (the same tokens: never added
  together), cache writes as `cache_creation_input_tokens` or `prompt_tokens_details.cache_creation_tokens`,
  reasoning as `completion_tokens_details.reasoning_tokens`, audio as the `audio_tokens` of both
  details (subsets, priced at audio rates). Whether `prompt_tokens` already includes
  them depends on the LiteLLM version and call type, see `_input_tokens`.
- `status` is "success"/"failure"; `api_key` is a sha256 hash of the virtual key, but a raw "sk-..."
  key is replaced by its sha256 (the same hash LiteLLM stores, so rows still join).
- Bodies (`messages`, `response`, `proxy_server_request`) are never read: they are not in the schema.

Hint columns: project = metadata user_api_key_project_id (else _alias); gateway_team = team_id, else
metadata user_api_key_team_id, else user_api_key_team_alias; key_alias = metadata user_api_key_alias;
user_hash = HMAC of end_user (else metadata user_api_key_end_user_id, else user, else metadata
user_api_key_user_id); labels = the string values of `spend_logs_metadata`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from tokenomics.privacy import pseudonymize
from tokenomics.providers import normalize_provider
from tokenomics.sources import gateways as gw
from tokenomics.sources.labels import json_object_labels
from tokenomics.sources.normalize import Staged
from tokenomics.sources.parse import parse_bool, parse_count, parse_timestamp, text_or_null
from tokenomics.sources.text import decode_json_text, names_fields

SOURCE = "litellm"
TABLES = ("usage_events",)

S = pl.String
SPEND_LOG_FIELDS: dict[str, pl.DataType] = {
    name: S()
    for name in (
        "request_id",
        "id",
        "call_type",
        "api_key",
        "spend",
        "response_cost",
        "prompt_tokens",
        "completion_tokens",
        "startTime",
        "endTime",
        "request_duration_ms",
        "model",
        "model_group",
        "custom_llm_provider",
        "user",
        "end_user",
        "team_id",
        "metadata",
        "cache_hit",
        "request_tags",
        "status",
    )
}
"""Top-level fields read from a spend log; everything else (bodies included) is never parsed."""

USAGE_OBJECT = pl.Struct(
    {
        "prompt_tokens": S,
        "completion_tokens": S,
        "cache_read_input_tokens": S,
        "cache_creation_input_tokens": S,
        "prompt_tokens_details": pl.Struct({"cached_tokens": S, "cache_creation_tokens": S, "audio_tokens": S}),
        "completion_tokens_details": pl.Struct({"reasoning_tokens": S, "audio_tokens": S}),
    }
)
METADATA_FIELDS: dict[str, pl.DataType] = {
    **{
        name: S()
        for name in (
            "user_api_key",
            "user_api_key_hash",
            "user_api_key_alias",
            "user_api_key_team_id",
            "user_api_key_team_alias",
            "user_api_key_project_id",
            "user_api_key_project_alias",
            "user_api_key_end_user_id",
            "user_api_key_user_id",
            "spend_logs_metadata",
            "status",
        )
    },
    "usage_object": USAGE_OBJECT,
}
"""The parts of the `metadata` JSON this reader uses (SpendLogsMetadata / StandardLoggingMetadata)."""

CSV_REQUIRED = {"request_id", "call_type", "startTime"}
CACHE_READS = pl.max_horizontal("read_field", "read_detail")
CACHE_WRITES = pl.max_horizontal("write_field", "write_detail")
"""The same cache tokens appear under two names: take the larger, never the sum."""


def sniff(path: Path, head: bytes) -> bool:
    """A JSON spend log names call_type and startTime; the CSV export has them in its header."""
    return names_fields(head, json_keys=("call_type", "startTime"), csv_columns=CSV_REQUIRED)


def read(path: Path | str, chunk_rows: int = 200_000) -> Iterator[Staged]:
    """Staged usage_events chunks from one spend-log file."""
    yield from gw.read_logs(path, source=SOURCE, fields=SPEND_LOG_FIELDS, stage=stage_spend_logs, chunk_rows=chunk_rows)


def stage_spend_logs(frame: pl.DataFrame) -> Staged:
    """Map text spend-log rows (`SPEND_LOG_FIELDS` + `_line`, `_reject`) to staged usage_events."""
    metadata = decode_json_text(frame["metadata"], METADATA_FIELDS)
    tags, tags_ok = _request_tags(frame["request_tags"])
    rows = pl.concat(
        [
            frame.select(*SPEND_LOG_FIELDS, "_line", "_reject"),
            metadata.rename(lambda c: f"m_{c}"),
            pl.DataFrame({"request_tags_list": tags, "_tags_ok": tags_ok}),
        ],
        how="horizontal",
    )
    rows = rows.with_columns(json_object_labels(rows["m_spend_logs_metadata"]).alias("_labels"))
    usage = pl.col("m_usage_object")
    details = usage.struct.field("prompt_tokens_details")
    completion_details = usage.struct.field("completion_tokens_details")

    def first_text(*names: str) -> pl.Expr:
        return pl.coalesce(*(text_or_null(pl.col(name)) for name in names))

    return gw.stage_usage(
        rows,
        skip=parse_bool(pl.col("cache_hit")),
        counts={
            "prompt_top": pl.col("prompt_tokens"),
            "prompt_usage": usage.struct.field("prompt_tokens"),
            "output_tokens": pl.coalesce(
                text_or_null(pl.col("completion_tokens")), usage.struct.field("completion_tokens")
            ),
            "read_field": usage.struct.field("cache_read_input_tokens"),
            "read_detail": details.struct.field("cached_tokens"),
            "write_field": usage.struct.field("cache_creation_input_tokens"),
            "write_detail": details.struct.field("cache_creation_tokens"),
            "reasoning_tokens": completion_details.struct.field("reasoning_tokens"),
            # OpenAI-style details: audio inside prompt/completion tokens, priced at audio rates
            "input_audio_tokens": details.struct.field("audio_tokens"),
            "output_audio_tokens": completion_details.struct.field("audio_tokens"),
        },
        timestamp=pl.col("startTime"),
        rejects=(
            pl.when(pl.col("m__reject").is_not_null()).then(pl.lit("malformed_metadata")),
            pl.when(~pl.col("_tags_ok")).then(pl.lit("malformed_request_tags")),
            *gw.ROW_REJECTS,
        ),
        columns={
            "event_id": first_text("request_id", "id"),
            "provider": _provider(),
            "model": first_text("model", "model_group"),
            "project": first_text("m_user_api_key_project_id", "m_user_api_key_project_alias"),
            "api_key_id": _api_key_id(),
            "user_hash": pseudonymize(
                first_text("end_user", "m_user_api_key_end_user_id", "user", "m_user_api_key_user_id")
            ),
            "input_tokens": _input_tokens(),
            "cache_read_tokens": CACHE_READS,
            "cache_write_tokens": CACHE_WRITES,
            "output_tokens": pl.col("output_tokens"),
            "reasoning_tokens": pl.col("reasoning_tokens"),
            "input_audio_tokens": pl.col("input_audio_tokens"),
            "output_audio_tokens": pl.col("output_audio_tokens"),
            "is_batch": pl.col("call_type").str.contains("(?i)batch").fill_null(False),
            "status": _status(),
            "latency_ms": _latency_ms(),
            "reported_cost_usd": first_text("spend", "response_cost"),
            "gateway_team": first_text("team_id", "m_user_api_key_team_id", "m_user_api_key_team_alias"),
            "key_alias": text_or_null(pl.col("m_user_api_key_alias")),
            "request_tags": pl.col("request_tags_list"),
            "labels": pl.col("_labels"),
        },
    )


def _input_tokens() -> pl.Expr:
    """All input tokens, cache reads and writes included, whatever the LiteLLM version counted in prompt_tokens.

    - The logged top-level prompt_tokens and usage_object.prompt_tokens measure the same thing, except
      that some versions subtract cache tokens from one of them (PR #23342): the larger is the total.
    - prompt >= reads + writes: prompt already includes both (OpenAI always; Anthropic via
      /chat/completions in current LiteLLM, issue #11364) -> prompt.
    - otherwise the row follows Anthropic's own convention, prompt = uncached input only
      (`anthropic_messages` calls) -> prompt + reads + writes; except the LiteLLM versions that added
      cache reads but not writes into prompt_tokens (issue #15056): prompt >= reads -> prompt + writes.
    Only rows carrying Anthropic-style cache fields are corrected: an OpenAI-style row whose
    cached_tokens exceed its prompt is kept as is, and normalize quarantines it (cache_exceeds_input).
    """
    top, from_usage = pl.col("prompt_top"), pl.col("prompt_usage")
    prompt = (
        pl.when((top < 0) | (from_usage < 0))
        .then(pl.min_horizontal(top, from_usage))
        .otherwise(pl.max_horizontal(top, from_usage))
    )
    reads = CACHE_READS.fill_null(0)
    writes = CACHE_WRITES.fill_null(0)
    anthropic_style = pl.any_horizontal(
        pl.col("read_field").is_not_null(), pl.col("write_field").is_not_null(), pl.col("write_detail").is_not_null()
    )
    anthropic_messages = pl.col("call_type").str.contains("(?i)anthropic_messages").fill_null(False)
    return (
        pl.when(~anthropic_style | (prompt >= reads + writes) | (prompt < 0))
        .then(prompt)
        .when(anthropic_messages | (prompt < reads))
        .then(prompt + reads + writes)
        .otherwise(prompt + writes)
    )


def _provider() -> pl.Expr:
    """custom_llm_provider, else the prefix of a 'provider/model' string."""
    prefix = pl.col("model").str.extract(r"^([A-Za-z0-9_.\-]+)/")
    return normalize_provider(pl.coalesce(text_or_null(pl.col("custom_llm_provider")), prefix).fill_null(""))


def _api_key_id() -> pl.Expr:
    """The key hash LiteLLM logged; a raw secret key ('sk-...') is replaced by its sha256, never stored."""
    key = pl.coalesce(
        text_or_null(pl.col("api_key")),
        text_or_null(pl.col("m_user_api_key")),
        text_or_null(pl.col("m_user_api_key_hash")),
    )
    return key.map_batches(_hash_raw_keys, return_dtype=pl.String)


def _hash_raw_keys(keys: pl.Series) -> pl.Series:
    # Once per distinct raw key (a handful), not per row; hashes pass through untouched.
    raw = keys.filter(keys.str.contains(r"^(sk-|Bearer\s)")).unique().to_list()
    if not raw:
        return keys
    hashed = {k: hashlib.sha256(k.removeprefix("Bearer ").strip().encode()).hexdigest() for k in raw}
    return keys.replace(hashed)


def _status() -> pl.Expr:
    status = pl.coalesce(text_or_null(pl.col("status")), text_or_null(pl.col("m_status"))).str.to_lowercase()
    return pl.when(status.is_in(["failure", "error", "failed"])).then(pl.lit("error")).otherwise(pl.lit("ok"))


def _latency_ms() -> pl.Expr:
    end = parse_timestamp(pl.col("endTime"))
    from_times = (end - pl.col("ts")).dt.total_milliseconds()
    return pl.coalesce(parse_count(pl.col("request_duration_ms")), pl.when(from_times >= 0).then(from_times))


def _request_tags(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """request_tags as List[String] from JSON text; second series False where the text is not a JSON list."""
    frame = pl.DataFrame({"t": texts}).with_columns(text_or_null(pl.col("t")).alias("t"))
    try:
        decoded = frame.select(pl.col("t").str.json_decode(pl.List(S)))["t"]
        return decoded.fill_null([]), pl.repeat(True, frame.height, eager=True)
    except pl.exceptions.PolarsError:
        pass

    # Rare: a tag that is itself an object, or a value that is not a list. Decide once per distinct text.
    def tags_of(text: str) -> list[str] | None:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(value, list):
            return [v if isinstance(v, str) else json.dumps(v) for v in value]
        return [value] if isinstance(value, str) else None

    distinct = frame["t"].drop_nulls().unique()
    parsed = [tags_of(t) for t in distinct.to_list()]
    lookup = pl.DataFrame(
        {"t": distinct, "tags": parsed, "ok": [p is not None for p in parsed]},
        schema={"t": S, "tags": pl.List(S), "ok": pl.Boolean},
    )
    joined = frame.join(lookup, on="t", how="left", maintain_order="left")
    return joined["tags"].fill_null([]), joined["ok"].fill_null(True)
