"""A local server answering as Twilio's Messages API does, and webhooks signed as Twilio signs.

The real SDK talks to it (TWILIO_API_BASE_URL); tests read what it received from its log.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from email.utils import formatdate
from urllib.parse import parse_qsl, urlencode

import pytest
from django.conf import settings
from django.urls import reverse
from twilio.request_validator import RequestValidator
from werkzeug import Request, Response

ACCOUNT_SID = "AC" + "0a" * 16
AUTH_TOKEN = "f00dcafe" * 4
SERVICE_SID = "MG" + "1b" * 16
FROM_NUMBER = "+12025550100"
PUBLIC_URL = "https://herald.example.com"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

UNSUBSCRIBED = (400, 21610, "Attempt to send to unsubscribed recipient")
TOO_MANY = (429, 20429, "Too Many Requests")
SERVER_ERROR = (500, 20500, "Internal Server Error")


def message_json(form: dict, sid: str) -> dict:
    """The body Twilio answers a created message with."""
    now = formatdate(usegmt=False)
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued" if "From" in form else "accepted",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"
        },
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def error_json(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio:
    """Messages API: 201 for every text, except the numbers told to fail or hang."""

    def __init__(self, server) -> None:
        self.server = server
        self.refusals: dict[str, tuple[int, int, str]] = {}
        self.hangs: dict[str, float] = {}
        self.lock = threading.Lock()
        self.received: list[dict] = []  # every form posted, in order
        self.auth: list[str] = []
        self.accepted: dict[str, str] = {}  # message sid -> To
        self.callbacks: dict[str, str] = {}  # message sid -> StatusCallback
        server.expect_request(MESSAGES, method="POST").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        form = dict(parse_qsl(request.get_data(as_text=True)))
        with self.lock:
            self.received.append(form)
            self.auth.append(request.headers.get("Authorization", ""))
        to = form.get("To", "")
        if to in self.hangs:
            time.sleep(self.hangs[to])
        if to in self.refusals:
            status, code, message = self.refusals[to]
            return Response(
                json.dumps(error_json(status, code, message)),
                status=status,
                content_type="application/json",
            )
        sid = "SM" + uuid.uuid4().hex
        with self.lock:
            self.accepted[sid] = to
            self.callbacks[sid] = form.get("StatusCallback", "")
        return Response(
            json.dumps(message_json(form, sid)), status=201, content_type="application/json"
        )

    def to_numbers(self) -> list[str]:
        with self.lock:
            return [form.get("To", "") for form in self.received]


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


def signature(url: str, params: dict) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url, params)


def post_signed(client, name: str, params: dict, *, query: str = "", url: str | None = None):
    """POST `params` to a Twilio webhook as Twilio does, signed over the public URL (or `url`)."""
    path = reverse(name) + (f"?{query}" if query else "")
    sign_url = url if url is not None else settings.HERALD_PUBLIC_URL + path
    return client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature(sign_url, params)},
    )


def status_params(sid: str, status: str, *, error_code: str = "") -> dict:
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": FROM_NUMBER,
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": "+12025550123",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


@pytest.fixture
def twilio_api(httpserver, settings, fast_engine, use_provider) -> FakeTwilio:
    """HERALD_SMS_PROVIDER=twilio, talking to a local fake of Twilio's API."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID
    settings.TWILIO_FROM_NUMBER = ""
    settings.TWILIO_API_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.TWILIO_TIMEOUT = 1.0
    settings.HERALD_PUBLIC_URL = PUBLIC_URL
    use_provider("twilio")
    return FakeTwilio(httpserver)
