"""How an alert reads in each channel: Slack Block Kit, plain text, HTML and a JSON document."""

from __future__ import annotations

from html import escape

from tokenomics.alerts.model import Alert

_SEVERITY_MARK = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}
_SEVERITY_COLOR = {"info": "#2b6cb0", "warning": "#b7791f", "critical": "#c53030"}


def subject_line(alert: Alert) -> str:
    """Email subject / notification preview."""
    return f"[tokenomics {alert.severity}] {alert.title}"


def slack_message(alert: Alert) -> dict:
    """Slack incoming-webhook body: `text` is the notification fallback, `blocks` the message."""
    facts = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in alert.facts.items()][:10]  # Slack: <= 10 fields
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150], "emoji": True}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{_SEVERITY_MARK[alert.severity]} {_slack_escape(alert.text)}"},
        },
    ]
    if facts:
        blocks.append({"type": "section", "fields": facts})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"team *{_slack_escape(alert.team)}* · {alert.day.isoformat()} · {alert.severity} · `{alert.key}`",
                }
            ],
        }
    )
    return {"text": f"{alert.title}: {alert.text}", "blocks": blocks}


def _slack_escape(text: str) -> str:
    # Slack mrkdwn control characters
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_text(alert: Alert) -> str:
    lines = [alert.title, "", alert.text, ""]
    lines += [f"{k}: {v}" for k, v in alert.facts.items()]
    lines += ["", f"team {alert.team} | day {alert.day.isoformat()} | severity {alert.severity} | key {alert.key}"]
    return "\n".join(lines) + "\n"


def html(alert: Alert) -> str:
    rows = "".join(
        f"<tr><th align='left' style='padding-right:12px'>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
        for k, v in alert.facts.items()
    )
    color = _SEVERITY_COLOR[alert.severity]
    return (
        "<!doctype html><html><body style='font-family:sans-serif'>"
        f"<h2 style='color:{color}'>{escape(alert.title)}</h2>"
        f"<p>{escape(alert.text)}</p>"
        f"<table>{rows}</table>"
        f"<p style='color:#666;font-size:small'>team {escape(alert.team)} &middot; {alert.day.isoformat()} "
        f"&middot; {alert.severity} &middot; {escape(alert.key)}</p>"
        "</body></html>"
    )


def json_document(alert: Alert) -> dict:
    """The webhook body and the JSONL line: the alert's fields, versioned."""
    return {"version": 1, "source": "tokenomics", **alert.to_json()}
