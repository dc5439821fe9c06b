"""Cloud bill SKU names to (model, token_type), and unit-of-measure blocks, parsed once per distinct value.

Cloud bills name the model and the token class inside a free-text SKU: a Bedrock usage type
(`USE1-Claude3Sonnet-input-tokens`, `USW2-MP:USW2_InputTokenCount-Units`), an Azure meter
(`gpt 4o 1120 cached Inp glbl Tokens`, `5.4 opt Gl 1M Tokens`) or a GCP SKU description
(`Gemini 2.5 Pro Text Input (<=200k)`). The raw text always stays in `sku`; these parsers give a
normalized model string and one of TOKEN_TYPES. A model is only named on token lines: a line that
bills something else (provisioned hours, storage, fine-tuning) gets token_type 'other' and no model.

Model normalization is deliberately modest: lower case, hyphen separated, vendor and cross-region
prefixes dropped (`us.anthropic.`, the table in tokenomics/model_key.py), Azure snapshot codes (`0806`)
dropped, and Claude names put in Anthropic's order (`Claude4.6Opus` -> `claude-opus-4-6`,
`Claude 3.5 Sonnet` -> `claude-3-5-sonnet`). Reconciliation then compares these names with the gateways'
through `model_key`, so the two meet whatever the spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from tokenomics.model_key import strip_routing_prefix

TOKEN_TYPES = ("input", "output", "cache_read", "cache_write", "other")

SkuParser = Callable[[str | None, str | None], tuple[str | None, str]]
"""(sku text, hint such as a product name) -> (model or None, token_type)."""

# ---------------------------------------------------------------- model names

_BEDROCK_ID_TAIL = re.compile(r"(?:-\d{8})?-v\d+:\d+$")  # -20240307-v1:0
_PARENS = re.compile(r"\s*[(\[].*?[)\]]\s*")
_CLAUDE_FAMILIES = ("opus", "sonnet", "haiku")


def normalize_model_name(raw: str | None) -> str | None:
    """A reasonable model string from a squashed or display name; the raw text stays in `sku`."""
    if not raw or not raw.strip():
        return None
    name = strip_routing_prefix(_PARENS.sub(" ", raw).strip())
    name = _BEDROCK_ID_TAIL.sub("", name)
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", "-", name)  # NovaLite -> Nova-Lite
    name = re.sub(r"(?<=[A-Za-z]{2})(?=\d)", "-", name)  # Claude3 -> Claude-3, not o3
    name = re.sub(r"(?<=\d)(?=[A-Z][a-z])", "-", name)  # 3Sonnet -> 3-Sonnet, not 17B
    name = re.sub(r"[\s_/-]+", "-", name.lower()).strip("-")
    return _claude_order(name) if name else None


def _claude_order(name: str) -> str:
    """Claude names in Anthropic's order: family after the version from Claude 4 on."""
    parts = name.split("-")
    if parts[0] != "claude":
        return name
    family = next((p for p in parts if p in _CLAUDE_FAMILIES), None)
    version = [v for p in parts if re.fullmatch(r"\d{1,2}(\.\d{1,2})?", p) for v in p.split(".")]
    if family is None or not version:
        return name
    rest = [p for p in parts[1:] if p != family and not re.fullmatch(r"\d{1,2}(\.\d{1,2})?", p)]
    head = [family, *version] if int(version[0]) >= 4 else [*version, family]
    return "-".join(["claude", *head, *rest])


# ---------------------------------------------------------------- Bedrock usage types

_REGION = re.compile(r"^[A-Z]{2,4}\d{0,2}-")  # USE1-, EUC1-, APN1-: a billing region, not the model
_BEDROCK_MODEL = re.compile(r"^(.*?)-(?:mantle-)?(?:input|output|cache)[-_]", re.IGNORECASE)
_BEDROCK_TOKEN = (
    ("cache_read", re.compile(r"cache[-_ ]?read", re.IGNORECASE)),
    ("cache_write", re.compile(r"cache[-_ ]?write", re.IGNORECASE)),
    ("input", re.compile(r"input[-_ ]?token", re.IGNORECASE)),
    ("output", re.compile(r"output[-_ ]?token", re.IGNORECASE)),
)
_GENERIC_PRODUCTS = {"amazon bedrock", "bedrock", "amazonbedrock"}


def bedrock_sku(usage_type: str | None, product_name: str | None) -> tuple[str | None, str]:
    """Bedrock usage type; Marketplace lines (`MP:`) name the model only in the product name."""
    text = usage_type or ""
    token_type = next((t for t, rx in _BEDROCK_TOKEN if rx.search(text)), "other")
    if token_type == "other":
        return None, token_type
    model = None
    rest = _REGION.sub("", text)
    if not rest.startswith("MP:") and (m := _BEDROCK_MODEL.match(rest)):
        model = normalize_model_name(m.group(1))
    if model is None and product_name and product_name.strip().lower() not in _GENERIC_PRODUCTS:
        model = normalize_model_name(product_name)
    return model, token_type


# ---------------------------------------------------------------- Azure meter names

_AZ_INPUT = {"inp", "inpt", "input"}
_AZ_OUTPUT = {"outp", "opt", "out", "outpt", "output"}
_AZ_CACHED = {"cached", "cd", "cache"}
_AZ_WRITE = {"write", "wrt", "writes"}
_AZ_NOISE = {
    "glbl", "global", "gl", "data", "zone", "dzone", "dz", "regnl", "regional", "rgnl",
    "batch", "txt", "text", "tokens", "token", "1k", "1m", "10k",
}  # fmt: skip
_AZ_ABBREVIATIONS = {"aud": "audio", "rt": "realtime"}


def azure_sku(meter_name: str | None, _hint: str | None = None) -> tuple[str | None, str]:
    """Azure OpenAI / Foundry meter: abbreviated, inconsistently spaced and cased (formats.md 4.2)."""
    words = [w for w in re.split(r"[\s_-]+", meter_name or "") if w]
    lower = [w.lower() for w in words]
    cached = any(w in _AZ_CACHED for w in lower)
    if cached and any(w in _AZ_WRITE for w in lower):
        token_type = "cache_write"
    elif cached:
        token_type = "cache_read"
    elif any(w in _AZ_INPUT for w in lower):
        token_type = "input"
    elif any(w in _AZ_OUTPUT for w in lower):
        token_type = "output"
    else:
        return None, "other"
    stop = next(i for i, w in enumerate(lower) if w in _AZ_INPUT | _AZ_OUTPUT | _AZ_CACHED)
    kept = [
        _AZ_ABBREVIATIONS.get(w.lower(), w)
        for w in words[:stop]
        if w.lower() not in _AZ_NOISE and not re.fullmatch(r"\d{4}", w)  # 0806: a snapshot code
    ]
    if kept and re.fullmatch(r"\d+(\.\d+)?", kept[0]):  # "5.4 inp Gl 1M Tokens" is GPT-5.4
        kept.insert(0, "gpt")
    return normalize_model_name(" ".join(kept)), token_type


# ---------------------------------------------------------------- GCP SKU descriptions (and free text)

_WORD_STOPS = {
    "text", "image", "images", "audio", "video", "input", "output", "cached", "cache", "caching",
    "prompt", "thinking", "tokens", "token", "characters", "character", "predictions", "context",
    "multimodal", "batch", "online", "and", "long", "short", "live", "requests", "for", "priority",
}  # fmt: skip


def described_sku(description: str | None, _hint: str | None = None) -> tuple[str | None, str]:
    """A SKU described in words (GCP `sku.description`, FOCUS ChargeDescription), e.g. Gemini 2.5 Pro Text Input."""
    text = _PARENS.sub(" ", description or "").strip()
    low = text.lower()
    if "storage" in low:
        token_type = "other"
    elif re.search(r"cach\w*\s+(?:input\s+)?(?:write|writes|creation)", low):
        token_type = "cache_write"
    elif re.search(r"\bcach(?:e|ed|ing)\b", low):
        token_type = "cache_read"
    elif re.search(r"\binput\b", low):
        token_type = "input"
    elif re.search(r"\boutput\b", low):
        token_type = "output"
    else:
        token_type = "other"
    if token_type == "other":
        return None, token_type
    words = text.split()
    stop = next((i for i, w in enumerate(words) if w.lower() in _WORD_STOPS), len(words))
    return normalize_model_name(" ".join(words[:stop])), token_type


SKU_PARSERS: dict[str, SkuParser] = {"bedrock": bedrock_sku, "azure": azure_sku, "described": described_sku}


# ---------------------------------------------------------------- units of measure

_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*([KkMm](?![A-Za-z]))?\s*(.*?)\s*$")
_UNIT_WORDS = {"thousand": Decimal(1000), "million": Decimal(1_000_000)}
_COUNTED = {"", "unit", "units", "count", "counts", "token", "tokens", "tkns"}


def unit_block(unit: str | None) -> tuple[Decimal, str | None]:
    """Block size and unit name of a unit of measure: '1K' -> (1000, ''), '1M Tokens' -> (1e6, 'tokens').

    Azure quantities are counted in these blocks (`Quantity` 1250.337 with `1K` is 1,250,337 tokens);
    FOCUS and the AWS price list spell blocks the same way ('1000 Tokens', '1K tokens').
    """
    if unit is None or not unit.strip():
        return Decimal(1), None
    match = _UNIT.match(unit)
    assert match is not None  # every group is optional: the pattern matches any text
    number, scale, rest = match.groups()
    block = Decimal(number) if number else Decimal(1)
    block *= {"k": Decimal(1000), "m": Decimal(1_000_000)}.get((scale or "").lower(), Decimal(1))
    words = rest.lstrip("/").strip().lower().split()
    if words and words[0] in _UNIT_WORDS:
        block *= _UNIT_WORDS[words.pop(0)]
    return block, " ".join(words)


def consumed_unit_name(unit_name: str | None, token_type: str | None) -> str | None:
    """The canonical consumed unit: 'tokens' for counted token lines, else the unit's own name."""
    if unit_name is None:
        return "tokens" if token_type not in (None, "other") else None
    if "token" in unit_name or (unit_name in _COUNTED and token_type not in (None, "other")):
        return "tokens"
    if "character" in unit_name:
        return "characters"
    return unit_name or "units"
