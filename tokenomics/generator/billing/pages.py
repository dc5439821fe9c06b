"""Provider report pages (OpenAI and Anthropic admin APIs) as the API returns them, one page per file."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path


def day_bounds_unix(day: date) -> tuple[int, int]:
    start = int(datetime.combine(day, time(0), tzinfo=timezone.utc).timestamp())
    return start, start + 86_400


def day_bounds_rfc3339(day: date) -> tuple[str, str]:
    return f"{day}T00:00:00Z", f"{day + timedelta(days=1)}T00:00:00Z"


def write_page(path: Path, page: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    return path
