"""The `anymail` provider: email through an ESP's API with django-anymail
(HERALD_EMAIL_PROVIDER=anymail).

HERALD_ANYMAIL_BACKEND names the ESP's backend (`anymail.backends.postmark.EmailBackend`,
`anymail.backends.mailgun.EmailBackend`, …) and every ANYMAIL_* variable becomes a key of
the ANYMAIL setting (ANYMAIL_POSTMARK_SERVER_TOKEN → ANYMAIL["POSTMARK_SERVER_TOKEN"]).

The ESP takes a message and answers its id: the delivery is `sent` and accepted; its outcome
(delivered, bounced, …) comes later through anymail's tracking webhook
(`channels.webhooks.anymail`), which finds the delivery by the `delivery_id` metadata every
message carries. A recipient the ESP rejects or finds invalid fails the delivery at once.
"""

from __future__ import annotations

import contextlib

from anymail.exceptions import AnymailError
from django.conf import settings
from django.core.mail import mailers
from django.urls import NoReverseMatch, reverse

from .base import Accepted, Answer, Outgoing, Provider, ProviderError
from .email import build_email

# Recipient statuses that mean the ESP will not deliver the message (anymail's words).
REFUSED = frozenset({"rejected", "invalid", "failed"})


class AnymailProvider(Provider):
    name = "anymail"
    kind = "email"
    # An API round trip: the dispatcher keeps many sends in flight at once.
    latency = 0.2
    mailer = "anymail"
    required_settings = ("HERALD_ANYMAIL_BACKEND",)

    def __init__(self, kind: str = "email") -> None:
        if kind != "email":
            raise ValueError("The anymail provider sends email only.")
        self.kind = kind

    def missing_settings(self) -> list[str]:
        missing = super().missing_settings()
        # Without it anymail's webhooks accept anyone's events; Herald refuses them instead.
        from ..webhooks.anymail import webhook_secret

        if not webhook_secret():
            missing.append("ANYMAIL_WEBHOOK_SECRET")
        return missing

    @property
    def webhook_urls(self) -> tuple[str, ...]:
        """The tracking webhook of the configured ESP (`anymail:postmark_tracking_webhook`)."""
        esp = esp_slug(settings.HERALD_ANYMAIL_BACKEND)
        for name in (f"anymail:{esp}_tracking_webhook", f"anymail:{esp}_webhook"):
            try:
                reverse(name)
            except NoReverseMatch:
                continue
            return (name,)
        return ()

    def send(self, message: Outgoing) -> Accepted:
        connection = self.connection()
        return self.send_on(connection, message)

    def send_many(self, messages: list[Outgoing]) -> list[Answer]:
        """A batch on one API session; never raises (an error is an answer)."""
        try:
            connection = self.connection()
            connection.open()
        except Exception as exc:
            return [exc] * len(messages)
        try:
            return [self.try_send_on(connection, message) for message in messages]
        finally:
            with contextlib.suppress(Exception):  # a broken session: nothing left to close
                connection.close()

    def connection(self):
        if self.mailer not in mailers:
            raise ProviderError("Set HERALD_ANYMAIL_BACKEND to send email through an ESP.")
        return mailers[self.mailer]

    def try_send_on(self, connection, message: Outgoing) -> Answer:
        try:
            return self.send_on(connection, message)
        except Exception as exc:
            return exc

    def send_on(self, connection, message: Outgoing) -> Accepted:
        email = build_email(message)
        email.metadata = {"delivery_id": str(message.delivery_id)}
        try:
            connection.send_messages([email])
        except AnymailError as exc:
            raise ProviderError(describe(exc)) from exc
        status = email.anymail_status
        refused = status.status & REFUSED if status.status else set()
        if refused:
            raise ProviderError(f"The ESP did not take the message: {', '.join(sorted(refused))}.")
        message_id = status.message_id
        if isinstance(message_id, set):  # one recipient: one id, but be safe
            message_id = sorted(str(value) for value in message_id)[0]
        return Accepted(provider_id=str(message_id or ""), outcome="sent")


def esp_slug(backend: str) -> str:
    """anymail.backends.postmark.EmailBackend → postmark."""
    parts = backend.split(".")
    return parts[-2] if len(parts) >= 2 else ""


def describe(exc: AnymailError) -> str:
    """Anymail's error on one line (it spreads the ESP's answer over several)."""
    return " ".join(str(exc).split())


def anymail(kind: str) -> AnymailProvider:
    return AnymailProvider(kind)
