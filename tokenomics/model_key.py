"""One model key: the table of vendor prefixes and aliases, as Python functions and as the DuckDB macro.

Bills and gateways spell one model differently: `gpt-4o-2024-08-06` / `gpt-4o`, the Bedrock id
`us.anthropic.claude-3-5-sonnet-20240620-v1:0` / the usage type's `Claude3.5Sonnet`, the Azure meter
`gpt 4o 1120`. Every place that compares or groups models reads the tables below, and nothing else:

- `model_key`: the join key of reconciliation (squashed: `claude35sonnet`, `gpt4omini`). The same
  steps render the DuckDB macro `model_key(name)` in `sql/macros/model_key.sql`, which
  `sql/reconciliation_daily.sql` calls; regenerate it with `python -m tokenomics.model_key --write-sql`
  (a test fails while the file and this module disagree).
- `model_family`: a readable family name for rules users write (`gpt-4o`, `claude-sonnet-4`): savings
  substitutions and TCO model classes.
- `strip_routing_prefix`: drops cross-region profiles and vendor prefixes; cloud SKU names use it.
- `MODEL_FAMILIES`: bare model names -> the provider that makes them (gateways without a provider field).

Steps are regular expressions written once and applied in order both by `re` and by DuckDB's RE2; they
use only the syntax the two share.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Vendor:
    """A model vendor: its prefix in Bedrock-style ids (`anthropic.`) and the bare names it makes."""

    prefix: str
    provider: str | None = None
    """Canonical provider of its bare model names; None when its models reach us only through clouds."""
    names: str | None = None
    """Regex alternatives matched at the start of a lower-cased bare model name."""


VENDORS: tuple[Vendor, ...] = (
    Vendor("openai", "openai", r"gpt-|o[1-9](-|$)|chatgpt|text-embedding|davinci|babbage|whisper|dall-e|tts-"),
    Vendor("anthropic", "anthropic", r"claude"),
    Vendor("google", "google_ai", r"gemini"),
    Vendor("mistral", "mistral", r"mistral|mixtral|codestral|ministral|pixtral"),
    Vendor("cohere", "cohere", r"command"),
    Vendor("deepseek", "deepseek", r"deepseek"),
    Vendor("xai", "xai", r"grok"),
    Vendor("amazon"),
    Vendor("meta"),
    Vendor("ai21"),
    Vendor("qwen"),
    Vendor("writer"),
    Vendor("zai"),
    Vendor("moonshot"),
    Vendor("minimax"),
    Vendor("twelvelabs"),
    Vendor("stability"),
    Vendor("luma"),
    Vendor("nvidia"),
)
"""Order matters only for MODEL_FAMILIES: the first vendor whose names match wins."""

CROSS_REGION_PROFILES = ("us", "eu", "apac", "global", "regional", "jp", "au", "ca", "us-gov")
"""Bedrock inference-profile prefixes: `us.anthropic.claude...` is the same model as `anthropic.claude...`."""

CUR_REGION_CODES = r"(us[ew]|eu[cwns]|ap[nse]|can|sae|mes|afs|ug[ew]|ilc)[0-9]-(mp:[a-z]{3}[0-9]_)?"
"""CUR usage-type region codes (`use1-`, `usw2-mp:usw2_`): a billing region, never part of the model."""

CLAUDE_FAMILIES = ("opus", "sonnet", "haiku", "instant")

_CROSS = "|".join(CROSS_REGION_PROFILES)
_VENDOR = "|".join(v.prefix for v in VENDORS)

KEY_STEPS: tuple[tuple[str, str, bool, str], ...] = (
    # (pattern, replacement, every match?, why), applied in order to the lower-cased, trimmed name
    (r"\s*\([^)]*\)", "", True, 'parenthesised notes: "(amazon bedrock edition)", "(<=200k)"'),
    (r"^.*/", "", False, 'path prefixes: "bedrock/", "publishers/google/models/"'),
    (rf"^({_CROSS})\.", "", False, 'cross-region profiles: "us.", "global."'),
    (rf"^{CUR_REGION_CODES}", "", False, 'CUR region codes: "use1-"'),
    (rf"^({_VENDOR})\.", "", False, 'vendor prefixes of Bedrock ids: "anthropic."'),
    (r"(-v[0-9]+:[0-9]+|:[0-9]+)$", "", False, 'Bedrock version tails: "-v1:0", ":1"'),
    (r"@[0-9]{8}$", "", False, 'Vertex AI snapshots: "@20250514"'),
    (r"[\s_]+", "-", True, "spaces and underscores become '-'"),
    (r"^-+|-+$", "", True, "no leading or trailing '-'"),
    (r"-([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})$", "", False, 'snapshots: "-2024-08-06", "-20240620"'),
    (r"-(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$", "", False, 'Azure MMDD snapshots: "-0513", "-1120"'),
    (r"-latest$", "", False, 'aliases: "-latest"'),
    (r"^(gemini-.*)-0[0-9][0-9]$", r"\1", False, 'Gemini versions: "-001"'),
)
"""Claude names then become claude<version digits><family> (claude-sonnet-4 = claude-sonnet-4-0 =
Claude4Sonnet; claude-3-5-sonnet = Claude3.5Sonnet); every other name drops its remaining '-', so
squashed names (NovaPro, "gpt 4o mini") meet hyphenated ones."""

_CLAUDE = "|".join(CLAUDE_FAMILIES)
NO_MODEL = "(none)"


# ---------------------------------------------------------------- Python


def _stripped(name: str | None) -> str:
    m = (name or "").strip(" ").lower()
    for pattern, replacement, every, _why in KEY_STEPS:
        m = re.sub(pattern, replacement, m, count=0 if every else 1)
    return m


def model_key(name: str | None) -> str:
    """The reconciliation key of a model string; '(none)' for an empty one."""
    m = _stripped(name)
    if m == "":
        return NO_MODEL
    if m.startswith("claude"):
        version = re.sub(r"[^0-9]", "", re.sub(f"({_CLAUDE}|claude)", "", re.sub(r"[-.]0$", "", m, count=1)))
        family = re.search(f"({_CLAUDE})", m)
        return ("claude" + version + (family.group(1) if family else "")).replace("-", "")
    return m.replace("-", "")


_ROUTING_PREFIX = re.compile(rf"^(?:(?:{_CROSS})\.)?(?:(?:{_VENDOR})\.)?", re.IGNORECASE)
_FAMILY_SUFFIX = re.compile(r"(?:@\d{8}|-\d{8}|-\d{4}-\d{2}-\d{2}|-v\d+(?::\d+)?|-latest|-0)+$")


def strip_routing_prefix(name: str) -> str:
    """`name` without a cross-region profile and a vendor prefix: `us.anthropic.claude-3` -> `claude-3`."""
    return _ROUTING_PREFIX.sub("", name, count=1)


def model_family(model: str | None) -> str | None:
    """The model's family name without routing prefixes and version suffixes.

    "openai/gpt-4o-2024-08-06" -> "gpt-4o"; "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "claude-sonnet-4@20250514" and "claude-sonnet-4-0" -> "claude-sonnet-4".
    """
    if model is None or not model.strip():
        return None
    name = model.strip().lower().rsplit("/", 1)[-1]
    return _FAMILY_SUFFIX.sub("", strip_routing_prefix(name)) or None


MODEL_FAMILIES: list[tuple[str, str]] = [(f"^({v.names})", v.provider) for v in VENDORS if v.names and v.provider]
"""Bare model names whose family names the provider (Langfuse generations carry no provider field)."""


def provider_of_model(model: str | None) -> str | None:
    """The provider that makes a bare model name, by MODEL_FAMILIES; None when no family matches."""
    name = (model or "").strip().lower()
    return next((provider for pattern, provider in MODEL_FAMILIES if re.search(pattern, name)), None)


# ---------------------------------------------------------------- DuckDB

MACRO_FILE = Path(__file__).resolve().parent.parent / "sql" / "macros" / "model_key.sql"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def macro_sql() -> str:
    """The DuckDB macros `model_key_stripped(name)` and `model_key(name)`, rendered from KEY_STEPS."""
    steps = list(reversed(KEY_STEPS))  # the last step is the outermost call
    opening = ["    " * (i + 1) + "regexp_replace(" for i in range(len(steps))]
    base = ["    " * (len(steps) + 1) + "lower(trim(coalesce(name, ''))),"]
    closing = [
        "    " * (len(steps) - i)
        + f"{_sql_string(pattern)}, {_sql_string(replacement)}{', ' + chr(39) + 'g' + chr(39) if every else ''})"
        + ("," if i + 1 < len(steps) else "")
        + f"  -- {why}"
        for i, (pattern, replacement, every, why) in enumerate(KEY_STEPS)
    ]
    expr = "\n".join([*opening, *base, *closing])
    claude = _sql_string(f"({_CLAUDE})")
    return (
        "-- Generated by `python -m tokenomics.model_key --write-sql` from tokenomics/model_key.py: edit that file.\n"
        "-- model_key(name): the reconciliation join key of a model string (see the module's docstring).\n"
        f"CREATE OR REPLACE MACRO model_key_stripped(name) AS (\n{expr}\n);\n"
        "CREATE OR REPLACE MACRO model_key(name) AS (\n"
        "    CASE\n"
        f"        WHEN model_key_stripped(name) = '' THEN {_sql_string(NO_MODEL)}\n"
        "        WHEN model_key_stripped(name) LIKE 'claude%' THEN replace(\n"
        "            'claude'\n"
        "            || regexp_replace(\n"
        f"                regexp_replace(regexp_replace(model_key_stripped(name), '[-.]0$', ''), {_sql_string(f'({_CLAUDE}|claude)')}, '', 'g'),\n"
        "                '[^0-9]', '', 'g')\n"
        f"            || regexp_extract(model_key_stripped(name), {claude}),\n"
        "            '-', '')\n"
        "        ELSE replace(model_key_stripped(name), '-', '')\n"
        "    END\n"
        ");\n"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-sql"]:
        MACRO_FILE.parent.mkdir(parents=True, exist_ok=True)
        MACRO_FILE.write_text(macro_sql(), encoding="utf-8")
        print(f"wrote {MACRO_FILE}")
    else:
        sys.stdout.write(macro_sql())
