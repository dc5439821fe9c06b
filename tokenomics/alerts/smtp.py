"""SMTP email channel: one multipart message (plain text + HTML) per alert, via smtplib."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tokenomics.alerts.base import DeliveryError, secret_from_env
from tokenomics.alerts.model import Alert
from tokenomics.alerts.render import html, plain_text, subject_line
from tokenomics.config import EmailChannelConfig


def email_message(alert: Alert, settings: EmailChannelConfig) -> EmailMessage:
    """One alert as a multipart message. `Date` is set here: RFC 5322 requires it, smtplib does not
    add it, and spam filters score a message without it."""
    msg = EmailMessage()
    msg["Subject"] = subject_line(alert)
    msg["From"] = settings.from_addr
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain="tokenomics.local")
    msg["X-Tokenomics-Alert-Key"] = alert.key
    msg.set_content(plain_text(alert))
    msg.add_alternative(html(alert), subtype="html")
    return msg


class EmailChannel:
    def __init__(self, settings: EmailChannelConfig):
        self.settings = settings
        self.name = settings.name
        self.min_severity = settings.min_severity

    def send(self, alert: Alert) -> None:
        s = self.settings
        if not s.to:
            raise DeliveryError(f"{self.name}: no recipients configured", retryable=False)
        username = secret_from_env(s.username_env, self.name, "SMTP username") if s.username_env else None
        password = secret_from_env(s.password_env, self.name, "SMTP password") if s.password_env else None
        try:
            server: smtplib.SMTP
            if s.use_ssl:
                server = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.timeout_seconds, context=ssl.create_default_context()
                )
            else:
                server = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds)
            with server:
                if s.starttls and not s.use_ssl:
                    server.starttls(context=ssl.create_default_context())
                if password is not None:
                    server.login(username or s.from_addr, password)
                server.send_message(email_message(alert, s))
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{self.name}: SMTP login refused ({exc.smtp_code})", retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            message = str(exc).replace(password, "<redacted>") if password else str(exc)
            raise DeliveryError(f"{self.name}: {type(exc).__name__}: {message}") from None
