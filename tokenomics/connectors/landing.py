"""Write what a connector fetched into landing/<source>/<day>/ under a deterministic name.

Two rules, one per kind of source:
- A gateway log (LiteLLM) is never restated by its source: a pull is the whole day as the database
  holds it now, so it replaces its own file (same name). Every file of a gateway day is read, so a
  second name would double the day.
- A provider bill or usage report is restated for days after the fact. The first pull writes
  `<export>.<ext>`; a later pull with the same bytes rewrites nothing (a rerun converges); different
  bytes are a restatement, written beside it as `<export>_delivered-<UTC stamp>.<ext>`, which
  tokenomics.deliveries prefers. The superseded files stay as an audit trail of what was billed when.

Files appear atomically: written under a dot-name (which landing readers ignore) and renamed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from tokenomics.deliveries import export_name, latest_deliveries
from tokenomics.home import Home


@dataclass(frozen=True)
class Landed:
    """One landing file a pull produced (or found already identical)."""

    source: str
    day: str
    path: Path
    rows: int
    status: str  # 'new', 'replaced', 'unchanged', 'restated'


def delivery_stamp_now(now: datetime | None = None) -> str:
    """A stamp deliveries.py parses as date-time: 2026-03-06T10-15-00Z (no ':' in file names)."""
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H-%M-%SZ")


def write_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open(draft, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def land_gateway_day(home: Home, source: str, day: date | str, name: str, chunks: Iterable[bytes], rows: int) -> Landed:
    """Replace the day's delivery `name` (a gateway pull is the whole day, never a restatement)."""
    path = home.landing_day(source, day) / name
    existed = path.exists()
    write_atomic(path, chunks)
    return Landed(source, str(day), path, rows, "replaced" if existed else "new")


def land_report(
    home: Home, source: str, day: date | str, name: str, content: bytes, rows: int, now: datetime | None = None
) -> Landed:
    """Land a provider report: new, unchanged (same bytes as the newest delivery) or a restatement."""
    folder = home.landing_day(source, day)
    current = _newest_delivery(folder, name)
    if current is None:
        path = folder / name
        write_atomic(path, [content])
        return Landed(source, str(day), path, rows, "new")
    if current.read_bytes() == content:
        return Landed(source, str(day), current, rows, "unchanged")
    stem, dot, ext = name.partition(".")
    path = folder / f"{stem}_delivered-{delivery_stamp_now(now)}{dot}{ext}"
    write_atomic(path, [content])
    return Landed(source, str(day), path, rows, "restated")


def land_delivery(home: Home, source: str, day: date | str, name: str, chunks: Iterable[bytes], rows: int) -> Landed:
    """Land a file whose name already carries its delivery stamp (an export's own): rerun = same name."""
    path = home.landing_day(source, day) / name
    existed = path.exists()
    write_atomic(path, chunks)
    return Landed(source, str(day), path, rows, "replaced" if existed else "new")


def _newest_delivery(folder: Path, name: str) -> Path | None:
    if not folder.is_dir():
        return None
    mine = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and export_name(p.name) == name]
    if not mine:
        return None
    newest, _ = latest_deliveries(sorted(mine))
    return newest[0]
