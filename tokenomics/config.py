"""The one validated configuration model, loaded from `tokenomics.yaml` (DESIGN section 6).

Every section has defaults, so a missing file or a missing section is a working configuration.
Unknown keys and bad values are errors naming the key path, in one line:

    tokenomics.yaml: attribution.team[2].field: unknown field 'teamid' (expected one of: ...)

Secrets never appear in the file: a key that names a secret (`*_url`, `*password*`, `*secret*`,
`*token*`, `*api_key*`) is refused; give the name of an environment variable instead, in the
matching `*_env` key (`url_env: SLACK_WEBHOOK_URL`). Values are read from the environment only
when a channel is used (`env_secret`), so a config can be validated on a machine without them.
"""

from __future__ import annotations

import os
import re
import types
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from tokenomics.schema import KNOWN_PROVIDERS
from tokenomics.sources import SOURCES

CONFIG_FILE = "tokenomics.yaml"


class ConfigError(ValueError):
    """A configuration problem, as one line naming the file and the key path."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
"""The *name* of an environment variable holding a secret, never the secret itself."""

Pct = Annotated[Decimal, Field(ge=0, le=100)]
NonNegativeUsd = Annotated[Decimal, Field(ge=0)]


def glob_regex(glob: str) -> str:
    """An anchored regex for a glob (`*` any run, `?` one character), valid in Python and Polars."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in glob)
    return f"^(?s:{body})$"


# --------------------------------------------------------------------------------------------
# attribution


AttributionField = Literal["gateway_team", "key_alias", "project", "api_key_id", "model", "tag", "label"]


class AttributionRule(_Section):
    """Read one hint `field` of a usage row, optionally test it, and yield a team or feature name.

    Yield: `value` when a condition (`pattern` glob, `equals`, `prefix`) holds; else the remainder
    after `prefix`; else the hint itself. `map` then translates the yield (no entry: no match).
    `tag` looks through request_tags for the first tag that yields; `label` reads the value of the
    label named `key`.
    """

    field: AttributionField
    key: str | None = None
    map: dict[str, str] | None = None
    pattern: str | None = None
    equals: str | None = None
    prefix: str | None = None
    value: str | None = None

    @model_validator(mode="after")
    def _coherent(self) -> AttributionRule:
        if self.field == "label" and not self.key:
            raise ValueError("a label rule needs 'key' (the label name, e.g. app.team)")
        if self.field != "label" and self.key is not None:
            raise ValueError("'key' only applies to field: label")
        conditions = [name for name in ("pattern", "equals", "prefix") if getattr(self, name) is not None]
        if len(conditions) > 1:
            raise ValueError(f"use only one of pattern, equals, prefix (got {', '.join(conditions)})")
        if self.value is not None and not conditions:
            raise ValueError("'value' needs a condition: pattern, equals or prefix")
        if self.value is not None and self.map is not None:
            raise ValueError("use either 'value' or 'map', not both")
        if self.value == "":
            raise ValueError("'value' cannot be empty")
        if self.field == "tag" and not conditions and self.map is None:
            raise ValueError("a tag rule needs prefix, pattern, equals or map")
        return self


DEFAULT_TEAM_RULES = (
    AttributionRule(field="gateway_team"),
    AttributionRule(field="tag", prefix="team:"),
    AttributionRule(field="label", key="app.team"),
)
DEFAULT_FEATURE_RULES = (
    AttributionRule(field="tag", prefix="feature:"),
    AttributionRule(field="label", key="app.feature"),
)


class AttributionConfig(_Section):
    """Rules for `team` and for `feature`, tried in order; the first that yields wins.

    A list left out uses the built-in default: team from the gateway's team as-is, then a
    `team:<name>` request tag, then the `app.team` label; feature from a `feature:<name>` tag,
    then the `app.feature` label. An explicit empty list means no rules: all 'unattributed'.
    """

    team: list[AttributionRule] = Field(default_factory=lambda: list(DEFAULT_TEAM_RULES))
    feature: list[AttributionRule] = Field(default_factory=lambda: list(DEFAULT_FEATURE_RULES))


# --------------------------------------------------------------------------------------------
# prices


class PriceOverride(_Section):
    """A dated price of our own: negotiated rates, private fine-tunes, gaps in the catalog.

    Either unit prices per million tokens (input and output required; cache prices default to
    the input price) or `discount_pct` off the catalog price. The window is
    [effective_from, effective_to): effective_to is exclusive and open when absent.
    """

    name: str
    provider: str
    model: str = "*"
    effective_from: date
    effective_to: date | None = None
    service_tier: str | None = None
    """Only requests of this service tier (e.g. flex); absent: every tier."""
    input_per_mtok: NonNegativeUsd | None = None
    output_per_mtok: NonNegativeUsd | None = None
    cache_read_per_mtok: NonNegativeUsd | None = None
    cache_write_per_mtok: NonNegativeUsd | None = None
    discount_pct: Pct | None = None
    batch_discount_pct: Pct | None = None

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, provider: str) -> str:
        if provider != "*" and provider not in KNOWN_PROVIDERS:
            raise ValueError(f"unknown provider '{provider}' (expected one of: {', '.join(KNOWN_PROVIDERS)} or *)")
        return provider

    @model_validator(mode="after")
    def _one_kind_of_price(self) -> PriceOverride:
        units = [self.input_per_mtok, self.output_per_mtok, self.cache_read_per_mtok, self.cache_write_per_mtok]
        has_units = any(price is not None for price in units)
        if self.discount_pct is not None and has_units:
            raise ValueError("give either discount_pct or unit prices (*_per_mtok), not both")
        if self.discount_pct is None and (self.input_per_mtok is None or self.output_per_mtok is None):
            raise ValueError("needs input_per_mtok and output_per_mtok, or discount_pct")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from (it is exclusive)")
        return self

    @property
    def is_discount(self) -> bool:
        return self.discount_pct is not None


class PricesConfig(_Section):
    """Catalog pricing knobs and the dated overrides (first matching override wins)."""

    batch_discount_pct: Pct = Decimal(50)
    """Applied to batch requests when the catalog has no batch price for that day."""
    reported_cost_fallback: bool = True
    """Unknown model but the source reported a cost: use it, as cost_source 'reported'."""
    overrides: list[PriceOverride] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> PricesConfig:
        names = [override.name for override in self.overrides]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"override names must be unique: {', '.join(dupes)}")
        return self


# --------------------------------------------------------------------------------------------
# budgets, alerts, allocation, anomalies, tco


class Budget(_Section):
    """A monthly dollar budget for a team (or one feature of it), alerting at % thresholds."""

    team: str
    feature: str | None = None
    monthly_usd: Annotated[Decimal, Field(gt=0)]
    thresholds: list[Annotated[int, Field(gt=0, le=1000)]] = Field(default_factory=lambda: [50, 80, 100])

    @field_validator("thresholds")
    @classmethod
    def _ascending(cls, thresholds: list[int]) -> list[int]:
        if not thresholds or thresholds != sorted(set(thresholds)):
            raise ValueError("thresholds must be distinct percentages in ascending order, e.g. [50, 80, 100]")
        return thresholds


Severity = Literal["info", "warning", "critical"]


class _ChannelBase(_Section):
    name: str
    min_severity: Severity = "info"


class _NetworkChannel(_ChannelBase):
    timeout_seconds: float = Field(default=10.0, gt=0)
    """Per attempt: connect plus response. A channel that keeps failing is skipped for the rest of the
    run (`alerts.circuit_breaker_failures`), so a dead endpoint costs a few timeouts, not one per alert."""


class SlackChannelConfig(_NetworkChannel):
    """Slack incoming webhook; the URL itself is the secret, so only its env var name is kept."""

    kind: Literal["slack"]
    url_env: EnvVarName


class WebhookChannelConfig(_NetworkChannel):
    """Generic JSON webhook, signed with HMAC-SHA256 over the raw body when `secret_env` is set."""

    kind: Literal["webhook"]
    url_env: EnvVarName
    headers_env: EnvVarName | None = None
    """An env var holding extra request headers (e.g. an Authorization bearer for the receiver): a JSON
    object, or `Name: value` lines. Its value is a secret like the URL and never reaches a log."""
    secret_env: EnvVarName | None = None
    """The HMAC-SHA256 signing key; the signature goes in `signature_header`."""
    signature_header: str = "X-Tokenomics-Signature"


class EmailChannelConfig(_NetworkChannel):
    """SMTP email (plain text + HTML). Host, port and sender are config; credentials come from env."""

    kind: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    use_ssl: bool = False
    """Implicit TLS (port 465)."""
    username_env: EnvVarName | None = None
    password_env: EnvVarName | None = None
    from_addr: str
    to: list[str] = Field(min_length=1)


class FileChannelConfig(_ChannelBase):
    """JSONL file, one alert per line; a relative path is under the home's alerts/ folder."""

    kind: Literal["file"]
    path: str


CHANNEL_MODELS: dict[str, type[_ChannelBase]] = {
    "slack": SlackChannelConfig,
    "webhook": WebhookChannelConfig,
    "email": EmailChannelConfig,
    "file": FileChannelConfig,
}


def _channel_shape(data: Any) -> Any:
    """Name the kind's missing and stray keys in one sentence, before the kind's model validates."""
    if not isinstance(data, dict) or data.get("kind") is None:
        return data  # the discriminator reports a missing kind
    if data["kind"] not in CHANNEL_MODELS:
        kinds = [repr(k) for k in CHANNEL_MODELS]
        raise ValueError(
            f"kind: unknown kind {data['kind']!r} (expected one of: {', '.join(kinds[:-1])} or {kinds[-1]})"
        )
    model = CHANNEL_MODELS[data["kind"]]
    common = {"name", "kind", "min_severity"}
    required = [n for n, f in model.model_fields.items() if f.is_required() and n not in common]
    if missing := [n for n in required if data.get(n) in (None, "", [])]:
        raise ValueError(f"a {data['kind']} channel needs {', '.join(missing)}")
    if stray := sorted(set(data) - set(model.model_fields)):
        raise ValueError(f"{', '.join(stray)} does not apply to a {data['kind']} channel")
    return data


AlertChannel = Annotated[
    Annotated[
        SlackChannelConfig | WebhookChannelConfig | EmailChannelConfig | FileChannelConfig,
        Field(discriminator="kind"),
    ],
    BeforeValidator(_channel_shape),
]
"""Where alerts go: one model per channel kind, chosen by `kind`. Delivery uses these models as they
are (no second settings layer), so every default and every 0 means what the file says."""


class AlertRoute(_Section):
    """Send alerts for teams matching `team` (glob) at or above `min_severity` to `channels`."""

    team: str = "*"
    min_severity: Severity = "warning"
    channels: list[str]


class AlertsConfig(_Section):
    """Channels and routes; with no routes, every channel receives every alert it accepts."""

    channels: list[AlertChannel] = Field(default_factory=list)
    routes: list[AlertRoute] = Field(default_factory=list)
    recency_days: int = Field(default=3, ge=0)
    """Alerts about days older than this are recorded but not sent: a backfill pages nobody. 0: only today's."""
    retry_attempts: int = Field(default=4, ge=1)
    """Attempts per delivery within one run."""
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    """First wait between attempts, doubled each time (0: retry at once). A `Retry-After` from the
    receiver is waited instead when longer; one beyond `retry_max_backoff_seconds` ends the run's tries."""
    retry_max_backoff_seconds: float = Field(default=30.0, ge=0)
    max_total_attempts: int = Field(default=20, ge=1)
    """Across runs; after that a failed delivery stays 'failed' for good."""
    circuit_breaker_failures: int = Field(default=2, ge=1)
    """Deliveries in a row that a channel fails (after their retries) before the rest of the run skips
    it; the skipped ones stay due and are tried on the next run."""

    @model_validator(mode="after")
    def _routes_name_channels(self) -> AlertsConfig:
        names = [channel.name for channel in self.channels]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"channel names must be unique: {', '.join(dupes)}")
        for i, route in enumerate(self.routes):
            if unknown := [c for c in route.channels if c not in names]:
                raise ValueError(
                    f"routes[{i}].channels: unknown channel '{unknown[0]}' (defined: {', '.join(names) or 'none'})"
                )
        return self


class AllocationConfig(_Section):
    """How shared cost nobody can be attributed to (the bill minus attributed usage) is spread."""

    method: Literal["proportional", "even", "weights", "unallocated"] = "proportional"
    weights: dict[str, Annotated[Decimal, Field(gt=0)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _weights_iff_method(self) -> AllocationConfig:
        if self.method == "weights" and not self.weights:
            raise ValueError("method 'weights' needs a weights map (team: weight)")
        if self.method != "weights" and self.weights:
            raise ValueError(f"weights only apply to method 'weights' (method is '{self.method}')")
        return self


AnomalyDimension = Literal["team", "feature", "provider", "model_id"]


def _default_anomaly_series() -> list[list[AnomalyDimension]]:
    return [["team"], ["team", "feature"], ["team", "model_id"]]


class AnomaliesConfig(_Section):
    """Knobs of the robust seasonal detector, named as `tokenomics.anomalies.detector.DetectorParams`.

    A knob left out keeps the detector's own default; `detector_kwargs()` gives the ones set here.
    """

    threshold: float | None = Field(default=None, gt=0)
    """|robust z| needed to flag a day."""
    min_abs_impact: float | None = Field(default=None, ge=0)
    """|value - expected| must reach this (dollars for cost series)."""
    min_pct_impact: float | None = Field(default=None, ge=0)
    """|value - expected| / expected must reach this fraction (0.25 = 25%)."""
    rel_floor: float | None = Field(default=None, ge=0)
    direction: Literal["both", "up", "down"] | None = None
    min_history_days: int | None = Field(default=None, ge=1)
    seasonal_history_days: int | None = Field(default=None, ge=7)
    scale_window_days: int | None = Field(default=None, ge=7)
    level_shift_days: int | None = Field(default=None, ge=2)
    series: list[list[AnomalyDimension]] = Field(default_factory=_default_anomaly_series)
    """Which breakdowns of daily cost are watched."""

    def detector_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude={"series"}).items() if v is not None}


class SelfHostModel(_Section):
    """An open model you could serve yourself, with its measured throughput per replica."""

    name: str
    gpus: int = Field(default=1, ge=1)
    output_tokens_per_second: Annotated[Decimal, Field(gt=0)]
    compare_provider: str | None = None
    compare_model: str | None = None


class TcoConfig(_Section):
    """On-prem GPU cost assumptions (reference: anomaly_pricing_tco.md section 3; H100 defaults)."""

    gpu: str = "H100"
    capex_usd_per_gpu: NonNegativeUsd = Decimal(40000)
    amortization_years: Annotated[Decimal, Field(gt=0)] = Decimal(4)
    residual_pct: Pct = Decimal(10)
    power_kw_per_gpu: Annotated[Decimal, Field(ge=0)] = Decimal("1.275")
    pue: Annotated[Decimal, Field(ge=1)] = Decimal("1.4")
    electricity_usd_per_kwh: NonNegativeUsd = Decimal("0.10")
    opex_pct_per_year: Annotated[Decimal, Field(ge=0)] = Decimal(10)
    cloud_usd_per_gpu_hour: NonNegativeUsd | None = Decimal("2.99")
    utilization_pct: list[Annotated[Decimal, Field(gt=0, le=100)]] = Field(
        default_factory=lambda: [Decimal(25), Decimal(50), Decimal(100)]
    )
    models: list[SelfHostModel] = Field(
        default_factory=lambda: [
            SelfHostModel(name="Llama-3.1-8B FP8", gpus=1, output_tokens_per_second=Decimal(15220)),
            SelfHostModel(name="Llama-3.3-70B FP8", gpus=2, output_tokens_per_second=Decimal(4205)),
        ]
    )


# --------------------------------------------------------------------------------------------
# the whole file


# --------------------------------------------------------------------------------------------
# connectors


class _AdminApiConnector(_Section):
    """A provider admin API: the key comes from the environment variable named here, never the file."""

    admin_key_env: EnvVarName
    base_url: str | None = None
    """API root (`https://api.openai.com`, with or without /v1); absent: the provider's public API."""
    timeout_seconds: float = Field(default=60.0, gt=0)
    retry_attempts: int = Field(default=6, ge=1, le=50)
    """Attempts per request on 429/5xx and transport errors."""
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    """First wait when the server sends no Retry-After, doubled each attempt (with jitter)."""
    retry_budget_seconds: float = Field(default=300.0, ge=0)
    """Total waiting allowed per pull; a Retry-After beyond what is left fails the pull at once."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/@\s]+(/\S*)?$", url):
            raise ValueError(f"'{url}' is not an http(s) URL without credentials (e.g. https://api.openai.com)")
        return url


OpenAIUsageKind = Literal[
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "vector_stores",
    "code_interpreter_sessions",
]


def _default_openai_usage() -> list[OpenAIUsageKind]:
    return ["completions", "embeddings", "images", "audio_speeches", "audio_transcriptions", "vector_stores"]


class OpenAIConnector(_AdminApiConnector):
    """OpenAI `/v1/organization/usage/*` into openai_usage and `/v1/organization/costs` into openai_costs."""

    usage: list[OpenAIUsageKind] = Field(default_factory=_default_openai_usage)


class AnthropicConnector(_AdminApiConnector):
    """Anthropic usage_report/messages into anthropic_usage and cost_report into anthropic_cost."""


class LitellmConnector(_Section):
    """The LiteLLM proxy's PostgreSQL: one UTC day of "LiteLLM_SpendLogs", read in pages."""

    dsn_env: EnvVarName
    """Holds postgresql://user:password@host:port/db (the proxy's DATABASE_URL)."""
    page_rows: int = Field(default=10_000, ge=1, le=1_000_000)
    connect_timeout_seconds: int = Field(default=10, ge=1)


class BucketExport(_Section):
    """An export a cloud writes to object storage, read from `url` (s3://bucket/prefix)."""

    source: Literal["aws_cur", "azure_cost", "gcp_billing", "focus"]
    url: Annotated[str, StringConstraints(pattern=r"^s3://[^/@\s]+(/\S*)?$")]


class ConnectorsConfig(_Section):
    """Where the pipeline fetches its inputs; each connector is off unless configured here."""

    litellm: LitellmConnector | None = None
    openai: OpenAIConnector | None = None
    anthropic: AnthropicConnector | None = None
    buckets: list[BucketExport] = Field(default_factory=list)


class Config(_Section):
    """Everything tokenomics.yaml can say; each section defaults when left out."""

    sources: list[str] | None = None
    """Enabled source names; absent means every installed reader."""
    attribution: AttributionConfig = Field(default_factory=AttributionConfig)
    prices: PricesConfig = Field(default_factory=PricesConfig)
    budgets: list[Budget] = Field(default_factory=list)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    tco: TcoConfig = Field(default_factory=TcoConfig)
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    anomalies: AnomaliesConfig = Field(default_factory=AnomaliesConfig)
    lake_url: str | None = None
    """s3://bucket/prefix holding lake, quarantine, landing and marts; $TOKENOMICS_LAKE_URL wins over it."""
    connectors: ConnectorsConfig = Field(default_factory=ConnectorsConfig)

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, sources: list[str] | None) -> list[str] | None:
        for name in sources or ():
            if name not in SOURCES:
                raise ValueError(f"unknown source '{name}' (expected one of: {', '.join(SOURCES)})")
        return sources

    @field_validator("budgets")
    @classmethod
    def _one_budget_per_scope(cls, budgets: list[Budget]) -> list[Budget]:
        scopes = [(b.team, b.feature) for b in budgets]
        if dupes := sorted({s for s in scopes if scopes.count(s) > 1}, key=str):
            team, feature = dupes[0]
            raise ValueError(f"two budgets for team '{team}'" + (f", feature '{feature}'" if feature else ""))
        return budgets


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read and validate tokenomics.yaml; a missing file means all defaults.

    `path=None` reads the home's file ($TOKENOMICS_HOME/tokenomics.yaml, default ./data).
    """
    if path is None:
        from tokenomics.home import Home

        path = Home.resolve().config_file
    path = Path(path)
    if not path.exists():
        return Config()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 (safe subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path.name}: {where}not valid YAML ({problem})") from None
    return parse_config(data, where=path.name)


def parse_config(data: Any, where: str = CONFIG_FILE) -> Config:
    """Validate already-parsed YAML (a mapping, or None for an empty file)."""
    if data is None:
        return Config()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of sections at the top level, got {type(data).__name__}")
    _refuse_secret_literals(data, (), where)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, where)) from None


def env_secret(var: str, key_path: str) -> str:
    """The value of the environment variable a config key names; an error that says what to set."""
    value = os.environ.get(var)
    if not value:
        raise ConfigError(f"{CONFIG_FILE}: {key_path}: environment variable {var} is not set")
    return value


# --------------------------------------------------------------------------------------------
# errors that name the key


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_SECRET_WORDS = {"password", "passwd", "secret", "token", "apikey", "credential", "credentials"}
_DATA_MAPS = {"map", "weights"}  # their keys are user data (team names, hint values), not settings


def _looks_secret(key: str) -> bool:
    words = re.split(r"[_\-.]", key.lower())
    if words[-1] == "env":
        return False
    joined = "_".join(words)
    return words[-1] == "url" or "api_key" in joined or any(word in _SECRET_WORDS for word in words)


def _refuse_secret_literals(node: Any, loc: tuple, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and _looks_secret(key) and value is not None and not _plain_location(loc, key):
                raise ConfigError(
                    f"{where}: {_path(loc + (key,))}: secrets cannot be written in the config; "
                    f"put it in an environment variable and give its name: {_env_key(key)}: VAR_NAME"
                )
            if key not in _DATA_MAPS:
                _refuse_secret_literals(value, loc + (key,), where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _refuse_secret_literals(item, loc + (i,), where)


_PLAIN_LOCATIONS = {("lake_url",), ("connectors", "*", "base_url"), ("connectors", "buckets", "#", "url")}
"""URL keys that name a place, not a secret (their models refuse URLs carrying credentials)."""


def _plain_location(loc: tuple, key: str) -> bool:
    shape = tuple("#" if isinstance(p, int) else p for p in loc + (key,))
    return any(len(shape) == len(want) and all(w in ("*", s) for w, s in zip(want, shape)) for want in _PLAIN_LOCATIONS)


def _env_key(key: str) -> str:
    return f"{key}_env" if not key.endswith("_env") else key


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_SUB_PATH = re.compile(r"^([A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*): ")


def _one_line(exc: ValidationError, where: str) -> str:
    # a misspelt key also makes the right one look missing: report the misspelling
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc, kind = _without_union_tags(tuple(first["loc"])), first["type"]
    last = loc[-1] if loc else None
    if kind == "extra_forbidden":
        expected = _fields_at(loc[:-1])
        message = f"unknown key '{last}'" + (f" (expected one of: {', '.join(expected)})" if expected else "")
    elif kind == "literal_error":
        what = last if isinstance(last, str) else "value"
        message = f"unknown {what} {first['input']!r} (expected one of: {first['ctx']['expected']})"
    elif kind == "missing":
        message = "missing required key"
    elif kind == "string_pattern_mismatch" and isinstance(last, str) and last.endswith("_env"):
        message = "expected the name of an environment variable (e.g. SLACK_WEBHOOK_URL), not its value"
    else:
        message = re.sub(r"^(Value error|Assertion failed), ", "", first["msg"])
        if sub := _SUB_PATH.match(message):  # a model validator naming a key inside its model
            loc, message = loc + (sub.group(1),), message[sub.end() :]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {_path(loc)}: {message}{more}"


def _without_union_tags(loc: tuple) -> tuple:
    """Pydantic puts a discriminated union's tag in the path (`channels[0].slack.url_env`); the
    file has no such key, so the path is reported without it."""
    return tuple(p for i, p in enumerate(loc) if not (i and isinstance(loc[i - 1], int) and p in CHANNEL_MODELS))


def _fields_at(loc: tuple) -> list[str] | None:
    """Keys the model at `loc` accepts, to suggest the right spelling."""
    tp: Any = Config
    for part in loc:
        tp = _unwrap_optional(tp)
        if isinstance(part, int) and get_origin(tp) is list:
            tp = get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    tp = _unwrap_optional(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [arg for arg in get_args(tp) if arg is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp
