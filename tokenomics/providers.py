"""Provider names as the sources spell them, mapped to the canonical provider (DESIGN section 4)."""

from __future__ import annotations

import polars as pl

PROVIDER_ALIASES: dict[str, str] = {
    # LiteLLM custom_llm_provider
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "bedrock": "aws_bedrock",
    "bedrock_converse": "aws_bedrock",
    "azure": "azure_openai",
    "azure_ai": "azure_openai",
    "vertex_ai": "gcp_vertex",
    "vertex_ai_beta": "gcp_vertex",
    "gemini": "google_ai",
    "mistral": "mistral",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "xai": "xai",
    "openrouter": "openrouter",
    # OpenTelemetry gen_ai.provider.name / gen_ai.system
    "aws.bedrock": "aws_bedrock",
    "azure.ai.openai": "azure_openai",
    "azure.ai.inference": "azure_openai",
    "az.ai.openai": "azure_openai",
    "az.ai.inference": "azure_openai",
    "gcp.vertex_ai": "gcp_vertex",
    "gcp.gen_ai": "gcp_vertex",
    "gcp.gemini": "google_ai",
    "vertex_ai.gemini": "gcp_vertex",
    "mistral_ai": "mistral",
    "x_ai": "xai",
    # gateway and tracer spellings (Cloudflare, Portkey, Helicone, OpenRouter vendor prefixes)
    "azure-openai": "azure_openai",
    "aws-bedrock": "aws_bedrock",
    "amazon": "aws_bedrock",
    "google-vertex-ai": "gcp_vertex",
    "vertex-ai": "gcp_vertex",
    "vertex": "gcp_vertex",
    "google-ai-studio": "google_ai",
    "google": "google_ai",
    "grok": "xai",
    "x-ai": "xai",
    "mistral-ai": "mistral",
    "mistralai": "mistral",
    # canonical names map to themselves
    "aws_bedrock": "aws_bedrock",
    "azure_openai": "azure_openai",
    "gcp_vertex": "gcp_vertex",
    "google_ai": "google_ai",
}


BILLING_GATEWAYS = frozenset({"openrouter"})
"""Gateways that resell: they bill the requests themselves, so the cost they report is the money owed
and belongs to them (provider = the gateway, the model maker kept in `vendor`). Their rows reconcile
against the gateway's own bill, never against the model vendor's."""


def normalize_provider(raw: pl.Expr) -> pl.Expr:
    """Canonical provider for a raw provider string; unknown names become 'other' (counted by checks)."""
    return (
        raw.str.strip_chars()
        .str.to_lowercase()
        .replace_strict(PROVIDER_ALIASES, default=pl.lit("other"), return_dtype=pl.String)
    )
