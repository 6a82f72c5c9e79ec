"""Sending a text message or an email, through the provider the practice chose (issue 36):

- **console** (the demo and tests): each message is appended, as one JSON line, to
  `<data dir>/messages/<practice slug>.jsonl` — what would have gone out, readable by a person and by tests;
- **Twilio** (text messages): its REST API through the `twilio` package, with a status callback URL so Twilio
  reports delivery (`portal.team`);
- **SMTP** (email): Django's SMTP email backend with the practice's server and credentials.

A provider answers with its id for the message, or raises `SendFailed` — transient (try again later) or not."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend

from ccmops.outbox.secrets import unseal

UNREADABLE = "the messaging credentials cannot be read with this deployment's secret key: enter them again (Settings)"


class SendFailed(Exception):
    def __init__(self, reason: str, *, transient: bool):
        super().__init__(reason)
        self.transient = transient


@dataclass(frozen=True)
class Outgoing:
    channel: str  # sms | email
    to: str
    body: str
    subject: str
    key: str  # the delivery's idempotency key
    callback_url: str = ""


def console_folder() -> Path:
    folder = Path(settings.CCMOPS_DATA_DIR) / "messages"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def console_sent(practice) -> list[dict]:
    """What the console provider sent for the practice, oldest first."""
    path = console_folder() / f"{practice.slug}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def send(config, practice, message: Outgoing) -> str:
    """Send through the practice's provider for the channel; returns the provider's id of the message."""
    provider = config.sms_provider if message.channel == "sms" else config.email_provider
    if provider == "console":
        for earlier in console_sent(practice):  # the same key twice: the first stands
            if earlier["key"] == message.key:
                return earlier["id"]
        sid = f"console-{uuid.uuid4().hex[:16]}"
        with open(console_folder() / f"{practice.slug}.jsonl", "a", encoding="utf-8") as out:
            out.write(json.dumps({"id": sid, "key": message.key, "channel": message.channel, "to": message.to,
                                  "subject": message.subject, "body": message.body}) + "\n")  # fmt: skip
        return sid
    if provider == "twilio":
        return _twilio(config, message)
    return _smtp(config, message)


def _twilio(config, message: Outgoing) -> str:
    from twilio.base.exceptions import TwilioRestException  # twilio loads only for a practice that uses it
    from twilio.rest import Client

    if not (config.twilio_account_sid and config.twilio_auth_token and config.twilio_from):
        raise SendFailed("Twilio is chosen but its account SID, auth token or sending number is missing (Settings)",
                         transient=False)  # fmt: skip
    client = Client(config.twilio_account_sid, unseal(config.twilio_auth_token, UNREADABLE))
    try:
        sent = client.messages.create(
            to=message.to,
            from_=config.twilio_from,
            body=message.body,
            **({"status_callback": message.callback_url} if message.callback_url else {}),
        )
    except TwilioRestException as exc:  # 429 and 5xx pass; a refused number or account does not
        raise SendFailed(
            f"Twilio {exc.status} ({exc.code}): {exc.msg}", transient=exc.status in (429, 500, 502, 503, 504)
        ) from None
    except OSError as exc:
        raise SendFailed(f"Twilio could not be reached: {exc}", transient=True) from None
    return sent.sid


def _smtp(config, message: Outgoing) -> str:
    if not (config.smtp_host and config.from_email):
        raise SendFailed("SMTP is chosen but its server or sender address is missing (Settings)", transient=False)
    backend = EmailBackend(host=config.smtp_host, port=config.smtp_port, username=config.smtp_user or None,
                           password=unseal(config.smtp_password, UNREADABLE) if config.smtp_password else None,
                           use_tls=config.smtp_port == 587, use_ssl=config.smtp_port == 465, timeout=20,
                           fail_silently=False)  # fmt: skip
    msgid = f"<{message.key.replace(':', '.')}@ccmops>"
    email = EmailMessage(message.subject, message.body, config.from_email, [message.to], headers={"Message-ID": msgid})
    try:
        backend.send_messages([email])
    except OSError as exc:
        raise SendFailed(f"the mail server did not take it: {exc}", transient=True) from None
    return msgid
