"""The synthetic company: models, gateway keys, OTel services and the traffic streams that use them.

A *stream* is one (team, feature, model, route) combination with its own token profile. Everything the
generator writes is derived from this table, so it reads as the org chart of the demo company.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Model:
    """A model as one provider serves it, with the spellings each log format uses."""

    name: str  # the model string written in the logs (and the truth)
    provider: str  # canonical provider
    litellm_provider: str  # LiteLLM custom_llm_provider
    otel_provider: str  # gen_ai.provider.name (current convention)
    otel_system: str  # gen_ai.system (deprecated convention)
    price_provider: str  # genai-prices provider id
    cache_style: str  # anthropic (reads + writes), openai (reads, 128-token blocks), implicit (reads), none
    kind: str = "chat"  # chat or embedding
    model_group: str = ""  # LiteLLM public model name
    api_base: str = ""
    unlisted_prices: tuple[str, str, str, str] | None = None
    """A model the pinned price catalog does not know (newer than it): the USD per million tokens
    (input, cache read, cache write, output) its provider bills. LiteLLM logs such requests at 0 spend,
    and the pipeline must leave them unpriced (cost null), never price them at 0."""

    @property
    def in_catalog(self) -> bool:
        return self.unlisted_prices is None


def _openai(name: str, group: str = "", unlisted_prices: tuple[str, str, str, str] | None = None) -> Model:
    return Model(
        name,
        "openai",
        "openai",
        "openai",
        "openai",
        "openai",
        "openai",
        model_group=group or name,
        api_base="https://api.openai.com/v1",
        unlisted_prices=unlisted_prices,
    )


def _anthropic(name: str, group: str) -> Model:
    return Model(
        name,
        "anthropic",
        "anthropic",
        "anthropic",
        "anthropic",
        "anthropic",
        "anthropic",
        model_group=group,
        api_base="https://api.anthropic.com/v1/messages",
    )


def _bedrock(name: str, group: str, cache_style: str) -> Model:
    return Model(
        name,
        "aws_bedrock",
        "bedrock",
        "aws.bedrock",
        "aws.bedrock",
        "aws",
        cache_style,
        model_group=group,
        api_base="https://bedrock-runtime.us-east-1.amazonaws.com",
    )


def _vertex(name: str) -> Model:
    return Model(
        name,
        "gcp_vertex",
        "vertex_ai",
        "gcp.vertex_ai",
        "vertex_ai",
        "google",
        "implicit",
        model_group=name,
        api_base="https://us-central1-aiplatform.googleapis.com/v1",
    )


MODELS: dict[str, Model] = {
    "gpt-4o": _openai("gpt-4o"),
    "gpt-4o-mini": _openai("gpt-4o-mini"),
    "gpt-4.1": _openai("gpt-4.1"),
    "o4-mini": _openai("o4-mini"),
    "o9-mini": _openai(
        "o9-mini", unlisted_prices=("1.10", "0.275", "1.10", "4.40")
    ),  # fictional, newer than any catalog
    "text-embedding-3-small": Model(
        "text-embedding-3-small",
        "openai",
        "openai",
        "openai",
        "openai",
        "openai",
        "none",
        kind="embedding",
        model_group="embeddings",
        api_base="https://api.openai.com/v1",
    ),
    "claude-sonnet-4": _anthropic("claude-sonnet-4-20250514", "claude-sonnet-4"),
    "claude-3-5-haiku": _anthropic("claude-3-5-haiku-20241022", "claude-haiku"),
    "bedrock-claude-3-5-sonnet": _bedrock(
        "anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock-claude-sonnet", "anthropic"
    ),
    "bedrock-nova-pro": _bedrock("amazon.nova-pro-v1:0", "nova-pro", "none"),
    "azure-gpt-4o": Model(
        "gpt-4o",
        "azure_openai",
        "azure",
        "azure.ai.openai",
        "az.ai.openai",
        "azure",
        "openai",
        model_group="gpt-4o-azure",
        api_base="https://acme-openai-eastus.openai.azure.com/",
    ),
    "gemini-2.5-flash": _vertex("gemini-2.5-flash"),
    "gemini-2.5-pro": _vertex("gemini-2.5-pro"),
}


@dataclass(frozen=True)
class GatewayKey:
    """A LiteLLM virtual key: the attribution hints the proxy writes on every request made with it."""

    alias: str
    deployment: str  # proxy-us writes JSONL, proxy-eu is exported as CSV
    user: str
    team_id: str | None = None
    team_alias: str | None = None
    ip: str = "10.0.0.1"

    @property
    def hashed(self) -> str:
        """What LiteLLM stores in `api_key`: the sha256 of the virtual key (here of a fake key name)."""
        return hashlib.sha256(f"sk-demo-{self.alias}".encode()).hexdigest()


@dataclass(frozen=True)
class OtelService:
    """A service instrumented with the OTel SDK directly: its resource attributes and how it encodes them."""

    name: str
    resource: dict[str, str]
    conventions: (
        str  # current (gen_ai.provider.name, input/output_tokens) or deprecated (gen_ai.system, prompt/completion)
    )
    int_as_string: bool  # OTLP int64 as JSON string ("120") or bare number (120)
    scope: str


KEYS: dict[str, GatewayKey] = {
    "search-prod": GatewayKey("search-prod", "proxy-us", "svc-search", "team-7f3a", "search-eng", "10.0.4.11"),
    "support-bot-prod": GatewayKey("support-bot-prod", "proxy-eu", "svc-support-bot", ip="10.8.1.20"),
    "support-agent-assist": GatewayKey("support-agent-assist", "proxy-eu", "svc-agent-assist", ip="10.8.1.21"),
    "growth-mktg": GatewayKey("growth-mktg", "proxy-eu", "svc-growth", "team-91c2", "growth-mktg", "10.8.2.5"),
    "dp-airflow": GatewayKey("dp-airflow", "proxy-us", "svc-airflow", ip="10.0.9.3"),
    "agents-lab": GatewayKey("agents-lab", "proxy-us", "svc-agents", "team-a93e", "agents-lab", "10.0.6.8"),
    "ci-smoke-tests": GatewayKey("ci-smoke-tests", "proxy-us", "svc-ci", ip="10.0.12.2"),
    "jlee-laptop": GatewayKey("jlee-laptop", "proxy-eu", "jlee", ip="192.168.1.23"),
}

SERVICES: dict[str, OtelService] = {
    "contract-review-svc": OtelService(
        "contract-review-svc",
        {"app.team": "legal-ai", "app.feature": "contract-review", "deployment.environment": "prod"},
        "current",
        True,
        "opentelemetry.instrumentation.botocore",
    ),
    "clause-extractor": OtelService(
        "clause-extractor",
        {"app.team": "legal-ai", "deployment.environment": "prod"},
        "current",
        False,
        "opentelemetry.instrumentation.anthropic",
    ),
    "mobile-bff": OtelService(
        "mobile-bff",
        {"service.namespace": "mobile-app", "deployment.environment": "prod"},
        "deprecated",
        False,
        "opentelemetry.instrumentation.vertexai",
    ),
    "notebook-sandbox": OtelService(
        "notebook-sandbox",
        {"deployment.environment": "dev"},
        "current",
        True,
        "opentelemetry.instrumentation.openai_v2",
    ),
}

DIURNAL: dict[str, tuple[float, ...]] = {
    # relative request rate per UTC hour
    "business": (2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8, 8, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3, 3, 2),
    "consumer": (6, 5, 4, 3, 2, 1.5, 1.5, 2, 3, 3, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8, 7.5, 7),
    "night": (0, 6, 10, 10, 8, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "flat": (1,) * 24,
}


@dataclass(frozen=True)
class Profile:
    """Token shape of one stream's requests (medians in tokens)."""

    tail: int  # uncacheable part of the prompt (user message, retrieved docs)
    output: int  # visible output
    prefix: int = 0  # cacheable prefix (system prompt, tools)
    turns: float = 0.0  # mean turns per conversation; 0 = single-shot requests
    turn_growth: int = 0  # context added per turn (earlier messages, cacheable)
    cache_hit: float = 0.0  # share of requests that read the cached prefix
    reasoning: float = 0.0  # reasoning tokens per visible output token (0 = not a reasoning stream)
    batch: float = 0.0  # share of requests sent through a batch API
    tail_sigma: float = 0.6
    output_sigma: float = 0.5
    diurnal: str = "business"
    weekend: float = 0.35
    growth: float = 0.006  # daily compound growth
    error_rate: float = 0.008
    content_share: float = 0.0  # OTel spans that carry gen_ai.input.messages (a body readers must drop)


@dataclass(frozen=True)
class Stream:
    """One team's feature on one model through one route (LiteLLM key, OTel service or direct API)."""

    name: str
    team: str  # the team that really sent it
    feature: str
    model: str  # key into MODELS
    channel: str  # litellm, otel or bypass (direct to the provider: only the bill sees it)
    weight: float  # relative request share
    profile: Profile
    key: str | None = None  # LiteLLM key
    tags: tuple[str, ...] = ()  # LiteLLM request_tags
    service: str | None = None  # OTel service
    span_labels: dict[str, str] = field(default_factory=dict)  # OTel span attributes used for attribution
    account: str = ""  # provider sub-account: OpenAI project, Anthropic workspace ("" = default), AWS account, ...

    @property
    def spec(self) -> Model:
        return MODELS[self.model]

    @property
    def via_gateway(self) -> bool:
        return self.channel != "bypass"


def _tags(team: str | None, feature: str | None, *extra: str) -> tuple[str, ...]:
    out = [f"team:{team}"] if team else []
    out += [f"feature:{feature}"] if feature else []
    return (*out, *extra)


P = Profile
STREAMS: tuple[Stream, ...] = (
    # search: LiteLLM team "team-7f3a" / "search-eng"; features from request tags
    Stream(
        "search/answer-gen",
        "search",
        "answer-gen",
        "claude-sonnet-4",
        "litellm",
        12,
        P(tail=1200, output=350, prefix=1800, cache_hit=0.8),
        key="search-prod",
        tags=_tags(None, "answer-gen", "env:prod"),
        account="wrkspc_01SearchProd",
    ),
    Stream(
        "search/query-rewrite",
        "search",
        "query-rewrite",
        "gpt-4o-mini",
        "litellm",
        16,
        P(tail=350, output=40),
        key="search-prod",
        tags=_tags(None, "query-rewrite", "env:prod"),
        account="proj_SearchProd01",
    ),
    Stream(
        "search/doc-embed",
        "search",
        "doc-embed",
        "text-embedding-3-small",
        "litellm",
        8,
        P(tail=700, output=0, diurnal="flat", weekend=0.9),
        key="search-prod",
        tags=_tags(None, "doc-embed", "env:prod"),
        account="proj_SearchProd01",
    ),
    Stream(
        "search/legacy-client",
        "search",
        "query-rewrite",
        "gpt-4o-mini",
        "litellm",
        1.2,
        P(tail=380, output=45),
        key="search-prod",
        tags=("env:prod",),
        account="proj_SearchProd01",
    ),
    # support: keys named support-* without a LiteLLM team (attributed by key alias); proxy-eu (CSV export)
    Stream(
        "support/chat-assistant",
        "support",
        "chat-assistant",
        "gpt-4o",
        "litellm",
        12,
        P(tail=120, output=220, prefix=1100, turns=6, turn_growth=300, cache_hit=0.9, diurnal="consumer", weekend=0.8),
        key="support-bot-prod",
        tags=_tags(None, "chat-assistant", "env:prod"),
        account="proj_SupportBot02",
    ),
    Stream(
        "support/ticket-triage",
        "support",
        "ticket-triage",
        "gpt-4o-mini",
        "litellm",
        10,
        P(tail=900, output=30, weekend=0.5),
        key="support-agent-assist",
        tags=_tags(None, "ticket-triage", "env:prod"),
        account="proj_SupportBot02",
    ),
    Stream(
        "support/reply-draft",
        "support",
        "reply-draft",
        "claude-3-5-haiku",
        "litellm",
        7,
        P(tail=600, output=300, prefix=2500, cache_hit=0.9, weekend=0.5),
        key="support-agent-assist",
        tags=_tags(None, "reply-draft", "env:prod"),
        account="wrkspc_01SupportEU",
    ),
    # growth: LiteLLM team "team-91c2"; email-copy may switch model mid-range (anomaly)
    Stream(
        "growth/email-copy",
        "growth",
        "email-copy",
        "gpt-4o-mini",
        "litellm",
        5,
        P(tail=800, output=500),
        key="growth-mktg",
        tags=_tags(None, "email-copy", "env:prod"),
        account="proj_GrowthMktg03",
    ),
    Stream(
        "growth/email-copy@gpt-4.1",
        "growth",
        "email-copy",
        "gpt-4.1",
        "litellm",
        5,
        P(tail=800, output=500),
        key="growth-mktg",
        tags=_tags(None, "email-copy", "env:prod"),
        account="proj_GrowthMktg03",
    ),
    Stream(
        "growth/ab-summaries",
        "growth",
        "ab-summaries",
        "azure-gpt-4o",
        "litellm",
        4,
        P(tail=1500, output=250, prefix=1200, cache_hit=0.4),
        key="growth-mktg",
        tags=_tags(None, "ab-summaries", "env:prod"),
        account="sub-growth-eastus",
    ),
    Stream(
        "growth/seo-pages",
        "growth",
        "seo-pages",
        "gemini-2.5-flash",
        "litellm",
        3,
        P(tail=900, output=700, prefix=1500, cache_hit=0.5, reasoning=0.8),
        key="growth-mktg",
        tags=_tags(None, "seo-pages", "env:prod"),
        account="acme-growth-prod",
    ),
    # data-platform: untagged-team key; team and feature from request tags; nightly batch
    Stream(
        "data-platform/nightly-enrich",
        "data-platform",
        "nightly-enrich",
        "gpt-4o-mini",
        "litellm",
        10,
        P(tail=1500, output=200, batch=1.0, diurnal="night", weekend=1.0, error_rate=0.003),
        key="dp-airflow",
        tags=_tags("data-platform", "nightly-enrich", "env:prod"),
        account="proj_DataPlatform04",
    ),
    Stream(
        "data-platform/pii-scrub",
        "data-platform",
        "pii-scrub",
        "bedrock-nova-pro",
        "litellm",
        4,
        P(tail=1100, output=600, diurnal="flat", weekend=0.8),
        key="dp-airflow",
        tags=_tags("data-platform", "pii-scrub", "env:prod"),
        account="111122223333",
    ),
    Stream(
        "data-platform/adhoc",
        "data-platform",
        "adhoc-analysis",
        "gpt-4.1",
        "litellm",
        1,
        P(tail=3000, output=600),
        key="dp-airflow",
        tags=_tags("data-platform", None),
        account="proj_DataPlatform04",
    ),
    # legal-ai: OTel SDK, current conventions; team/feature in resource or span attributes
    Stream(
        "legal-ai/contract-review",
        "legal-ai",
        "contract-review",
        "bedrock-claude-3-5-sonnet",
        "otel",
        6,
        P(tail=900, output=500, prefix=3000, turns=4, turn_growth=1500, cache_hit=0.85, content_share=0.05),
        service="contract-review-svc",
        account="444455556666",
    ),
    Stream(
        "legal-ai/clause-extract",
        "legal-ai",
        "clause-extract",
        "claude-3-5-haiku",
        "otel",
        5,
        P(tail=2500, output=400, prefix=1500, cache_hit=0.7, batch=0.4),
        service="clause-extractor",
        span_labels={"app.feature": "clause-extract"},
        account="wrkspc_01LegalAI",
    ),
    # mobile: OTel SDK, deprecated conventions (no cache/reasoning counts reported)
    Stream(
        "mobile/voice-assistant",
        "mobile",
        "voice-assistant",
        "gemini-2.5-flash",
        "otel",
        8,
        P(tail=80, output=120, prefix=600, turns=5, turn_growth=200, diurnal="consumer", weekend=1.2, growth=0.01),
        service="mobile-bff",
        span_labels={"app.feature": "voice-assistant"},
        account="acme-mobile-prod",
    ),
    Stream(
        "mobile/photo-caption",
        "mobile",
        "photo-caption",
        "gemini-2.5-pro",
        "otel",
        3,
        P(tail=1800, output=90, diurnal="consumer", weekend=1.2, growth=0.01),
        service="mobile-bff",
        span_labels={"app.feature": "photo-caption"},
        account="acme-mobile-prod",
    ),
    # agents: LiteLLM team "team-a93e"; the new team (anomaly) when the range is long enough
    Stream(
        "agents/agent-planner",
        "agents",
        "agent-planner",
        "o4-mini",
        "litellm",
        5,
        P(tail=1500, output=250, prefix=2000, cache_hit=0.6, reasoning=3.0, growth=0.04),
        key="agents-lab",
        tags=_tags(None, "agent-planner", "env:prod"),
        account="proj_AgentsLab05",
    ),
    Stream(
        "agents/agent-tools",
        "agents",
        "agent-tools",
        "claude-sonnet-4",
        "litellm",
        3,
        P(tail=300, output=200, prefix=4000, turns=8, turn_growth=900, cache_hit=0.9, growth=0.04),
        key="agents-lab",
        tags=_tags(None, "agent-tools", "env:prod"),
        account="wrkspc_01AgentsLab",
    ),
    Stream(
        "agents/agent-eval",
        "agents",
        "agent-eval",
        "o9-mini",
        "litellm",
        0.3,
        P(tail=1200, output=200, prefix=2000, cache_hit=0.5, reasoning=2.0),
        key="agents-lab",
        tags=_tags(None, "agent-eval", "env:prod"),
        account="proj_AgentsLab05",
    ),  # unpriced: see Model.unlisted_prices
    # genuinely unattributable: no team hint anywhere
    Stream(
        "unknown/ci-smoke",
        "platform",
        "ci-smoke",
        "gpt-4o-mini",
        "litellm",
        0.8,
        P(tail=50, output=5, diurnal="flat", weekend=0.1, error_rate=0.02),
        key="ci-smoke-tests",
        account="proj_Default00",
    ),
    Stream(
        "unknown/jlee-laptop",
        "search",
        "prototyping",
        "gpt-4o",
        "litellm",
        0.5,
        P(tail=2000, output=400, weekend=0.2),
        key="jlee-laptop",
        tags=("env:dev",),
        account="proj_Default00",
    ),
    Stream(
        "unknown/notebook",
        "data-platform",
        "notebooks",
        "gpt-4.1",
        "otel",
        0.8,
        P(tail=2500, output=500, prefix=1200, cache_hit=0.3, weekend=0.2),
        service="notebook-sandbox",
        account="proj_Default00",
    ),
    # gateway bypass: called the provider directly; only the provider's bill sees these
    Stream(
        "bypass/growth-email",
        "growth",
        "email-copy",
        "gpt-4o-mini",
        "bypass",
        3,
        P(tail=800, output=500),
        account="proj_GrowthDirect06",
    ),
    Stream(
        "bypass/dp-bq-enrich",
        "data-platform",
        "bq-enrich",
        "gemini-2.5-flash",
        "bypass",
        2,
        P(tail=1200, output=300, diurnal="night", weekend=1.0),
        account="acme-data-prod",
    ),
    Stream(
        "bypass/legal-lambda",
        "legal-ai",
        "contract-review",
        "bedrock-claude-3-5-sonnet",
        "bypass",
        1,
        P(tail=4000, output=500, prefix=3000, cache_hit=0.6),
        account="777788889999",
    ),
    Stream(
        "bypass/support-prototype",
        "support",
        "reply-draft",
        "claude-3-5-haiku",
        "bypass",
        1.5,
        P(tail=600, output=300, prefix=2500, cache_hit=0.8),
        account="",
    ),  # default workspace
    Stream(
        "bypass/growth-azure",
        "growth",
        "ab-summaries",
        "azure-gpt-4o",
        "bypass",
        1,
        P(tail=1500, output=250, prefix=1200, cache_hit=0.4),
        account="sub-growth-eastus",
    ),
)

STREAM_INDEX: dict[str, int] = {s.name: i for i, s in enumerate(STREAMS)}

# streams that only exist when an anomaly switches them on
DORMANT: frozenset[str] = frozenset({"growth/email-copy@gpt-4.1"})
