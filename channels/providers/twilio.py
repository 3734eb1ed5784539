"""SMS over Twilio Programmable Messaging, with the official SDK (SPEC section 4a).

A send is `messages.create` with a status callback naming our delivery; Twilio accepts the
text at once (`sent` so far) and reports `delivered`, `undelivered` or `failed` later to
`webhooks:twilio_status`. A refusal because the recipient texted STOP to our number (error
21610) opts the contact out of SMS; a 429 raises `RateLimited` so the channel slows down.
"""

from __future__ import annotations

import logging
import threading

import requests
from django.conf import settings
from django.db import connection
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .base import Accepted, Outgoing, Provider, ProviderError, RateLimited

log = logging.getLogger("herald.providers")

TWILIO_API = "https://api.twilio.com"
UNSUBSCRIBED = 21610  # "Attempt to send to unsubscribed recipient"


class RedirectedHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, sending what it would send to api.twilio.com to another
    base URL (TWILIO_API_BASE_URL: a regional proxy, or a test server)."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args, **kwargs):
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def error_text(exc: TwilioRestException) -> str:
    code = f" error {exc.code}" if exc.code else ""
    return f"Twilio{code} (HTTP {exc.status}): {exc.msg}"


class TwilioProvider(Provider):
    name = "twilio"
    # An API round trip: the dispatcher keeps many sends in flight at once.
    latency = 0.2
    required_settings = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    webhook_urls = ("webhooks:twilio_status", "webhooks:twilio_inbound")

    def __init__(self, kind: str = "sms") -> None:
        self.kind = kind
        self._client: Client | None = None
        self._lock = threading.Lock()

    def missing_settings(self) -> list[str]:
        missing = super().missing_settings()
        if not (settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER):
            missing.append("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
        return missing

    @property
    def client(self) -> Client:
        with self._lock:  # one client (and one connection pool) shared by the send threads
            if self._client is None:
                http_client = RedirectedHttpClient(
                    settings.TWILIO_API_BASE_URL, timeout=settings.TWILIO_TIMEOUT
                )
                self._client = Client(
                    settings.TWILIO_ACCOUNT_SID,
                    settings.TWILIO_AUTH_TOKEN,
                    http_client=http_client,
                )
            return self._client

    def message_fields(self, message: Outgoing) -> dict:
        callback = reverse("webhooks:twilio_status")
        fields = {
            "to": message.to,
            "body": message.content.get("text", ""),
            "status_callback": f"{settings.HERALD_PUBLIC_URL}{callback}?d={message.delivery_id}",
        }
        sender = message.content.get("sender") or ""
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            fields["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            sender = sender or settings.TWILIO_FROM_NUMBER
        if sender:
            fields["from_"] = sender  # with a service, the channel's own sender from its pool
        return fields

    def send(self, message: Outgoing) -> Accepted:
        try:
            sent = self.client.messages.create(**self.message_fields(message))
        except TwilioRestException as exc:
            self.refused(message, exc)
        except requests.Timeout as exc:
            raise ProviderError(
                f"Twilio did not answer within {settings.TWILIO_TIMEOUT:g} s."
            ) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"Could not reach Twilio: {exc}") from exc
        return Accepted(provider_id=sent.sid, outcome="sent")

    def refused(self, message: Outgoing, exc: TwilioRestException) -> None:
        """Turn Twilio's refusal into the error the delivery fails with."""
        text = error_text(exc)
        if exc.status == 429:
            raise RateLimited(text) from exc
        if exc.code == UNSUBSCRIBED:
            opt_out(contact_id=message.contact_id, detail=text)
        raise ProviderError(text) from exc


def opt_out(*, contact_id: int, detail: str) -> None:
    """Opt a contact out of SMS because Twilio refused to text them (they sent STOP)."""
    from campaigns.models import ConsentChange, Contact

    try:
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is not None:
            contact.set_consent(
                "sms",
                opted_out=True,
                source=ConsentChange.Source.PROVIDER_REFUSAL,
                detail=detail,
            )
    finally:
        # A send thread's connection ends with its send (the dispatcher's pool threads are
        # not Django's request threads, which close theirs themselves).
        in_pool = threading.current_thread() is not threading.main_thread()
        if in_pool and not connection.in_atomic_block:
            connection.close()
