"""Which channels an alert goes to: routes by team glob and severity, then each channel's own floor."""

from __future__ import annotations

from fnmatch import fnmatchcase

from tokenomics.alerts.model import SEVERITY_RANK, Alert
from tokenomics.alerts.settings import Route


def route(alert: Alert, routes: tuple[Route, ...], channel_floors: dict[str, str]) -> list[str]:
    """Channel names for `alert`. No routes: every channel; a channel's min_severity always applies."""
    rank = SEVERITY_RANK[alert.severity]
    if routes:
        names: list[str] = []
        for r in routes:
            if fnmatchcase(alert.team, r.team) and rank >= SEVERITY_RANK[r.min_severity]:
                names += [c for c in r.channels if c not in names]
    else:
        names = list(channel_floors)
    return [n for n in names if n in channel_floors and rank >= SEVERITY_RANK[channel_floors[n]]]
