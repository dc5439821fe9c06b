"""The README's command blocks that tests run verbatim: a block follows `<!-- tested: LABEL -->`."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(label: str) -> list[str]:
    """The command lines of the bash block marked `<!-- tested: LABEL -->` (comments and blanks dropped)."""
    text = README.read_text()
    found = re.search(rf"<!-- tested: {re.escape(label)} -->\s*```bash\n(.*?)```", text, re.S)
    if not found:
        raise AssertionError(f"README has no block marked 'tested: {label}'")
    return [line.strip() for line in found.group(1).splitlines() if line.strip() and not line.strip().startswith("#")]
