"""Vapi: one outbound call per contact, placed with Vapi's REST API (`POST /call`).

Vapi answers at once with the call it queued; how the call went arrives minutes later as
the `end-of-call-report` server message at /webhooks/vapi/ (`channels.webhooks.vapi`),
which finds the delivery again by the `delivery_id` this module puts in the call's
metadata. So a send is `Accepted` with Vapi's call id and no outcome yet.
"""

from __future__ import annotations

import httpx
from django.conf import settings
from django.urls import reverse

from .base import Accepted, Outgoing, Provider, ProviderError, RateLimited

# Content keys that are not the contact's own fields (see `channels.dispatch.content_for`).
CALL_CONTENT = ("script", "caller_id")


class VapiProvider(Provider):
    name = "vapi"
    # Placing a call is an API round trip: above zero, the dispatcher places calls in threads.
    latency = 0.3
    required_settings = (
        "VAPI_API_KEY",
        "VAPI_ASSISTANT_ID",
        "VAPI_PHONE_NUMBER_ID",
        "VAPI_WEBHOOK_SECRET",
    )
    webhook_urls = ("webhooks:vapi",)

    def __init__(self, kind: str = "ai_voice") -> None:
        self.kind = kind
        # One client per provider: its connection pool is shared by the dispatcher's threads.
        self.client = httpx.Client(
            base_url=settings.VAPI_BASE_URL,
            timeout=settings.VAPI_TIMEOUT,
            headers={"Authorization": f"Bearer {settings.VAPI_API_KEY}"},
        )

    def send(self, message: Outgoing) -> Accepted:
        try:
            response = self.client.post("/call", json=call_request(message))
        except httpx.TimeoutException as exc:
            raise ProviderError(f"Vapi did not answer within {settings.VAPI_TIMEOUT:g} s") from exc
        except httpx.HTTPError as exc:
            raise ProviderError(f"Vapi could not be reached: {exc}") from exc
        if response.status_code == 429:
            raise RateLimited(f"Vapi refused the call: {error_text(response)}")
        if response.is_error:
            raise ProviderError(f"Vapi refused the call: {error_text(response)}")
        try:
            call_id = response.json()["id"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError(f"Vapi answered without a call id: {response.text[:200]}") from exc
        return Accepted(provider_id=str(call_id))


def call_request(message: Outgoing) -> dict:
    """The body of `POST /call`: the assistant, our number, the contact, and the script and
    contact fields as variable values (`{{script}}`, `{{first_name}}` in the assistant)."""
    content = message.content
    variables = {key: value for key, value in content.items() if key not in CALL_CONTENT}
    variables["script"] = content.get("script", "")
    server = {"url": settings.HERALD_PUBLIC_URL + reverse("webhooks:vapi")}
    if settings.VAPI_WEBHOOK_SECRET:
        # Vapi sends it back as the X-Vapi-Secret header of every server message.
        server["secret"] = settings.VAPI_WEBHOOK_SECRET
    customer = {"number": message.to}
    if content.get("name"):
        customer["name"] = content["name"][:40]  # Vapi's limit for a customer's name
    return {
        "assistantId": settings.VAPI_ASSISTANT_ID,
        "phoneNumberId": settings.VAPI_PHONE_NUMBER_ID,
        "customer": customer,
        "assistantOverrides": {"variableValues": variables, "server": server},
        "metadata": {"delivery_id": message.delivery_id},
    }


def error_text(response: httpx.Response) -> str:
    """Vapi's own words for a refusal (`{"message": ..., "error": ..., "statusCode": ...}`)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        message = body["message"]
        words = "; ".join(map(str, message)) if isinstance(message, list) else str(message)
        return f"HTTP {response.status_code}: {words}"
    return f"HTTP {response.status_code}: {response.text[:200] or response.reason_phrase}"


def vapi(kind: str) -> VapiProvider:
    return VapiProvider(kind)
