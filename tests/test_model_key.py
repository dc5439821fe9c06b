"""One model key: the Python function and the DuckDB macro agree on every spelling, and the macro file is current."""

from __future__ import annotations

import pytest

from tokenomics import marts
from tokenomics.model_key import macro_sql, model_family, model_key, provider_of_model
from tokenomics.sources.cloud_skus import normalize_model_name

# raw spelling, reconciliation key, family (savings/TCO), provider of the bare name
CASES = [
    ("gpt-4o", "gpt4o", "gpt-4o", "openai"),
    ("gpt-4o-2024-08-06", "gpt4o", "gpt-4o", "openai"),
    ("openai/gpt-4o-mini-2024-07-18", "gpt4omini", "gpt-4o-mini", None),
    ("gpt 4o 1120", "gpt4o", "gpt 4o 1120", None),
    ("  Gpt_4o  ", "gpt4o", "gpt_4o", None),
    ("o3-mini", "o3mini", "o3-mini", "openai"),
    ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "claude35sonnet", "claude-3-5-sonnet", None),
    ("Claude3.5Sonnet", "claude35sonnet", "claude3.5sonnet", "anthropic"),
    ("claude-sonnet-4-0", "claude4sonnet", "claude-sonnet-4", "anthropic"),
    ("claude-sonnet-4@20250514", "claude4sonnet", "claude-sonnet-4", "anthropic"),
    ("Claude4Sonnet", "claude4sonnet", "claude4sonnet", "anthropic"),
    ("claude-3-5-haiku-latest", "claude35haiku", "claude-3-5-haiku", "anthropic"),
    ("claude-opus-4-1", "claude41opus", "claude-opus-4-1", "anthropic"),
    (
        "Claude 3.5 Sonnet (Amazon Bedrock Edition)",
        "claude35sonnet",
        "claude 3.5 sonnet (amazon bedrock edition)",
        "anthropic",
    ),
    ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude45haiku", "claude-haiku-4-5", None),
    ("amazon.nova-pro-v1:0", "novapro", "nova-pro", None),
    ("NovaPro", "novapro", "novapro", None),
    ("meta.llama3-70b-instruct-v1:0", "llama370binstruct", "llama3-70b-instruct", None),
    ("twelvelabs.pegasus-1-2-v1:0", "pegasus12", "pegasus-1-2", None),
    ("publishers/google/models/gemini-2.5-pro-001", "gemini2.5pro", "gemini-2.5-pro-001", None),
    ("Gemini 2.5 Pro (<=200k)", "gemini2.5pro", "gemini 2.5 pro (<=200k)", "google_ai"),
    ("gemini-1.5-flash-latest", "gemini1.5flash", "gemini-1.5-flash", "google_ai"),
    ("use1-claude3sonnet", "claude3sonnet", "use1-claude3sonnet", None),
    ("mistral-large-2407", "mistrallarge2407", "mistral-large-2407", "mistral"),
    ("command-r-plus", "commandrplus", "command-r-plus", "cohere"),
    ("grok-4", "grok4", "grok-4", "xai"),
    ("", "(none)", None, None),
    (None, "(none)", None, None),
]


@pytest.fixture(scope="module")
def con():
    connection = marts.connect()
    yield connection
    connection.close()


@pytest.mark.parametrize("raw, key, family, provider", CASES)
def test_model_key_is_one_rule_in_python_and_duckdb(con, raw, key, family, provider):
    assert model_key(raw) == key
    assert con.execute("SELECT model_key(?)", [raw]).fetchone()[0] == key
    assert model_family(raw) == family
    assert provider_of_model(raw) == provider


@pytest.mark.parametrize("sku_name", ["Claude3.5Sonnet", "us.anthropic.claude-3-5-sonnet", "NovaPro", "Gemini 2.5 Pro"])
def test_sku_names_meet_gateway_names_on_the_key(sku_name):
    gateway = {
        "Claude3.5Sonnet": "claude-3-5-sonnet-20240620",
        "us.anthropic.claude-3-5-sonnet": "claude-3-5-sonnet",
        "NovaPro": "amazon.nova-pro-v1:0",
        "Gemini 2.5 Pro": "gemini-2.5-pro",
    }[sku_name]
    assert model_key(normalize_model_name(sku_name)) == model_key(gateway)


def test_macro_file_is_generated_from_the_table():
    shipped = (marts.SQL_DIR / "macros" / "model_key.sql").read_text(encoding="utf-8")
    assert shipped == macro_sql(), "run: python -m tokenomics.model_key --write-sql"
