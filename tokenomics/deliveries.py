"""Restated billing exports: of several deliveries of one export, the newest delivery is read.

Providers restate a day's bill for several days after it. A re-delivery carries a marker before the
extension: `_delivered-<stamp>` or `-delivered-<stamp>` (`_delivered_<stamp>` too), e.g.
`costs_2026-03-03_delivered-2026-03-06.json`. Files whose names are equal once the marker is removed
are deliveries of one export; a file without a marker is that export's original delivery.

The winner is chosen by the *parsed* stamp, never by the file name: names sort '-' before '.' (so
`costs-delivered-2026-03-06.json` sorts before the original `costs.json`) and digits as text (so
`delivered-9` sorts after `delivered-10`). Stamps are compared as numbers: a date or date-time
(`2026-03-06`, `20260306`, `2026-03-06T10-15-00Z`) as (year, month, day, hour, minute, second), any
other run of digits (`9`, `10`, a Unix time) as its integers in order. An original (no marker) loses
to every marked delivery. Two deliveries with the same stamp are a tie broken by the full name, the
last one winning, so the choice never depends on the order the directory listing returned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath
from typing import TypeVar

P = TypeVar("P", bound=PurePath)

DELIVERY_MARKER = re.compile(r"[_-]delivered[-_](?P<stamp>\d[0-9A-Za-z:+_-]*?)(?P<ext>(?:\.[A-Za-z][A-Za-z0-9]*)*)$")
"""`<export><sep>delivered<sep><stamp><.ext...>`: the stamp starts with a digit; extensions start with a letter."""

_DATE_TIME = re.compile(
    r"^(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})"
    r"(?:[T_ -]?(?P<H>\d{2})[:-]?(?P<M>\d{2})(?:[:-]?(?P<S>\d{2}))?)?Z?$"
)

ORIGINAL: tuple[int, ...] = ()
"""The stamp of a file without a marker: older than any re-delivery."""


def export_name(name: str) -> str:
    """The export a file delivers: its name without the delivery marker."""
    return DELIVERY_MARKER.sub(lambda m: m.group("ext"), name)


def delivery_stamp(name: str) -> tuple[int, ...]:
    """When a file was delivered, as comparable numbers; ORIGINAL when the name has no marker."""
    marker = DELIVERY_MARKER.search(name)
    if marker is None:
        return ORIGINAL
    stamp = marker.group("stamp")
    parts = _DATE_TIME.match(stamp)
    if parts and 1 <= int(parts["m"]) <= 12 and 1 <= int(parts["d"]) <= 31:
        return tuple(int(parts[k] or 0) for k in ("y", "m", "d", "H", "M", "S"))
    return tuple(int(run) for run in re.findall(r"\d+", stamp))


def latest_deliveries(files: Sequence[P]) -> tuple[list[P], list[P]]:
    """Split `files` into (read, superseded): per export, the file with the newest stamp is read.

    Both lists keep the order of `files`. Files of different exports never supersede each other.
    """
    newest: dict[str, P] = {}
    for f in files:
        export = export_name(f.name)
        held = newest.get(export)
        if held is None or (delivery_stamp(f.name), f.name) > (delivery_stamp(held.name), held.name):
            newest[export] = f
    kept = {id(f) for f in newest.values()}
    return [f for f in files if id(f) in kept], [f for f in files if id(f) not in kept]
