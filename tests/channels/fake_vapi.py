"""A local stand-in for Vapi's API (pytest-httpserver) and the server messages Vapi posts back."""

from __future__ import annotations

import itertools
import json
import threading

from django.urls import reverse
from werkzeug import Request, Response

SECRET = "vapi-shared-secret"


def use_fake_vapi(httpserver, settings, use_provider) -> FakeVapi:
    """Point the `vapi` provider at `httpserver` and make it every kind's provider."""
    settings.VAPI_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.VAPI_API_KEY = "vapi-private-key"
    settings.VAPI_ASSISTANT_ID = "asst-herald"
    settings.VAPI_PHONE_NUMBER_ID = "pn-outbound"
    settings.VAPI_WEBHOOK_SECRET = SECRET
    settings.VAPI_TIMEOUT = 2.0
    use_provider("vapi")
    return FakeVapi(httpserver)


class FakeVapi:
    """Answers `POST /call` as Vapi does (201, the queued call) and remembers open calls."""

    def __init__(self, httpserver) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.calls: dict[str, dict] = {}  # call id -> the request body that created it
        self.open: set[str] = set()
        self.max_open = 0
        httpserver.expect_request("/call", method="POST").respond_with_handler(self.create)

    def create(self, request: Request) -> Response:
        body = request.get_json()
        with self.lock:
            call_id = f"019a-call-{next(self.ids)}"
            self.calls[call_id] = body
            self.open.add(call_id)
            self.max_open = max(self.max_open, len(self.open))
        call = {
            "id": call_id,
            "orgId": "org-1",
            "type": "outboundPhoneCall",
            "status": "queued",
            "assistantId": body["assistantId"],
            "phoneNumberId": body["phoneNumberId"],
            "customer": body["customer"],
            "metadata": body.get("metadata", {}),
            "createdAt": "2026-12-02T18:00:00.000Z",
            "updatedAt": "2026-12-02T18:00:00.000Z",
        }
        return Response(json.dumps(call), status=201, content_type="application/json")

    def end(self, client, call_id: str, reason: str = "customer-ended-call", **fields):
        """Post the call's end-of-call report to Herald, as Vapi does when the call ends."""
        with self.lock:
            self.open.discard(call_id)
        return post(client, end_of_call_report(call_id, self.calls[call_id], reason, **fields))


def end_of_call_report(call_id: str, body: dict, reason: str, **fields) -> dict:
    analysis = {"summary": "They asked for a brochure.", "successEvaluation": "false"}
    analysis.update(fields.pop("analysis", {}))
    return {
        "type": "end-of-call-report",
        "timestamp": 1796320863000,
        "endedReason": reason,
        "call": {
            "id": call_id,
            "type": "outboundPhoneCall",
            "status": "ended",
            "metadata": body.get("metadata", {}),
        },
        "startedAt": "2026-12-02T18:00:05.000Z",
        "endedAt": "2026-12-02T18:01:47.500Z",
        "cost": 0.21,
        "artifact": {
            "transcript": "AI: Hello Ada, this is Herald calling.\nUser: Send me a brochure.",
            "recordingUrl": f"https://storage.vapi.ai/{call_id}-mono.wav",
            "messages": [],
        },
        "analysis": analysis,
        **fields,
    }


def post(client, message: dict, *, secret: str = SECRET, **extra):
    """POST one server message to /webhooks/vapi/ as Vapi would."""
    headers = {"X-Vapi-Secret": secret} if secret is not None else {}
    return client.post(
        reverse("webhooks:vapi"),
        data=json.dumps({"message": message}),
        content_type="application/json",
        headers=headers,
        **extra,
    )
