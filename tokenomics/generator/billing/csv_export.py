"""A bill's CSV export as its provider writes it: the header row, then one row per line item."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_csv_export(
    path: Path, columns: Sequence[str], rows: list[dict[str, Any]], *, encoding: str, lineterminator: str
) -> Path:
    """Write `rows` under `columns`; the byte order mark (utf-8-sig) and line ends are the provider's own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator=lineterminator)
        writer.writeheader()
        writer.writerows(rows)
    return path
