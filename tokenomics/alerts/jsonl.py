"""JSONL file channel: appends one JSON line per alert (fsynced, so a crash cannot half-deliver)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tokenomics.alerts.base import DeliveryError
from tokenomics.alerts.model import Alert
from tokenomics.alerts.render import json_document
from tokenomics.config import FileChannelConfig


class JsonlChannel:
    def __init__(self, settings: FileChannelConfig):
        self.settings = settings
        self.name = settings.name
        self.min_severity = settings.min_severity

    def send(self, alert: Alert) -> None:
        line = (json.dumps(json_document(alert), sort_keys=True) + "\n").encode()
        path = Path(self.settings.path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line)  # one write with O_APPEND: lines never interleave
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise DeliveryError(f"{self.name}: cannot append to {path}: {exc.strerror}") from None
