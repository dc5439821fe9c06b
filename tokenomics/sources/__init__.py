"""Readers, one module per input format, registered under their DESIGN source names.

A reader module defines:
  SOURCE: str                       the DESIGN source name
  TABLES: tuple[str, ...]           canonical tables it produces
  sniff(path, head: bytes) -> bool  True when the file's content is this format (for --source auto)
  read(path, chunk_rows=...) -> Iterator[Staged]   staged chunks, bounded memory
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

GATEWAY_SOURCES = ("litellm", "otel", "helicone", "langfuse", "openrouter", "portkey", "cloudflare")
BILLING_SOURCES = (
    "openai_usage",
    "openai_costs",
    "anthropic_usage",
    "anthropic_cost",
    "aws_cur",
    "azure_cost",
    "gcp_billing",
    "focus",
)
SOURCES = BILLING_SOURCES + GATEWAY_SOURCES


class UnknownSourceError(ValueError):
    pass


def available() -> list[str]:
    """Source names whose reader module is installed."""
    return [name for name in SOURCES if importlib.util.find_spec(f"tokenomics.sources.{name}") is not None]


def reader(name: str) -> ModuleType:
    """The reader module for a source name, or a clear error listing the valid names."""
    if name not in SOURCES or name not in available():
        raise UnknownSourceError(f"unknown source '{name}'; choose one of: {', '.join(available())} or auto")
    return importlib.import_module(f"tokenomics.sources.{name}")


def detect(path: Path) -> str:
    """Recognize a file's format from its content (first 64 KiB); error when nothing or several match."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    matches = [name for name in available() if reader(name).sniff(Path(path), head)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UnknownSourceError(
            f"{path}: cannot recognize the format from its content; pass --source NAME "
            f"(one of: {', '.join(available())})"
        )
    raise UnknownSourceError(f"{path}: content matches several formats ({', '.join(matches)}); pass --source NAME")
