"""Slack incoming webhook channel: a Block Kit message per alert."""

from __future__ import annotations

import json

from tokenomics.alerts.base import post, secret_from_env
from tokenomics.alerts.model import Alert
from tokenomics.alerts.render import slack_message
from tokenomics.config import SlackChannelConfig


class SlackChannel:
    def __init__(self, settings: SlackChannelConfig):
        self.settings = settings
        self.name = settings.name
        self.min_severity = settings.min_severity

    def send(self, alert: Alert) -> None:
        url = secret_from_env(self.settings.url_env, self.name, "Slack webhook URL")
        body = json.dumps(slack_message(alert)).encode()
        post(url, body, {"Content-Type": "application/json"}, self.settings.timeout_seconds, self.name)
