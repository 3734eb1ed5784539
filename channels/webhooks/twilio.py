"""Twilio's callbacks: message status reports, and texts people send back (consent).

Both are signed by Twilio with the account's auth token (`X-Twilio-Signature`) over the URL
it called, which is the public one (`HERALD_PUBLIC_URL`), not the one this process sees
behind a TLS proxy. A bad signature is answered 403 with nothing stored.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from campaigns.models import ConsentChange, Contact, normalize_phone

from ..events import DUPLICATE, Report, ingest
from ..providers.twilio import UNSUBSCRIBED

MAX_BODY = 64 * 1024

# MessageStatus -> Herald's outcome; the others (queued, accepted, sending, ...) are noted.
OUTCOMES = {
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
}
# The error codes a status callback most often carries, in words for the deliveries table.
ERRORS = {
    "21610": "Attempt to send to unsubscribed recipient",
    "21211": "Invalid 'To' phone number",
    "21614": "'To' number is not a valid mobile number",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error",
}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP"}
NOT_LETTERS = re.compile(r"[\W\d_]+")


class Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def signed_post(request: HttpRequest, *required: str) -> dict[str, str]:
    """The form Twilio posted, once its size, encoding and signature are checked."""
    if len(request.body) > MAX_BODY:
        raise Refused(HttpResponseBadRequest("Body too large."))
    try:
        request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(HttpResponseBadRequest("Body is not UTF-8.")) from None
    url = settings.HERALD_PUBLIC_URL + request.get_full_path()
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    if not settings.TWILIO_AUTH_TOKEN or not validator.validate(url, request.POST, signature):
        raise Refused(HttpResponse("Bad signature.", status=403))
    missing = [name for name in required if not request.POST.get(name)]
    if missing:
        raise Refused(HttpResponseBadRequest(f"Missing {', '.join(missing)}."))
    return request.POST.dict()


def twiml(message: str = "") -> HttpResponse:
    """Twilio's answer format: a reply text, or nothing to send."""
    reply = f"<Response><Message>{escape(message)}</Message></Response>"
    xml = '<?xml version="1.0" encoding="UTF-8"?>' + (reply if message else "<Response/>")
    return HttpResponse(xml, content_type="text/xml")


def keyword(body: str) -> str:
    """The text's first word, upper-cased, punctuation dropped ("Stop." is STOP)."""
    words = body.split(maxsplit=1)
    return NOT_LETTERS.sub("", words[0]).upper() if words else ""


def status_report(form: dict[str, str], delivery_id: int | None) -> Report:
    sid, status = form["MessageSid"], form["MessageStatus"].lower()
    code = form.get("ErrorCode", "")
    error = f"Twilio error {code}: {ERRORS.get(code, 'see twilio.com/docs/errors')}"
    return Report(
        provider="twilio",
        event_id=f"{sid}:{status}",
        kind="sms",
        status=status,
        outcome=OUTCOMES.get(status, ""),
        provider_id=sid,
        delivery_id=delivery_id,
        error=error if code else "",
        details={"twilio_error_code": code} if code else {},
        payload=form,
        opt_out=ConsentChange.Source.PROVIDER_REFUSAL if code == str(UNSUBSCRIBED) else "",
    )


@login_not_required
@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    """A message's status changed: queued, sent, delivered, undelivered, failed, ..."""
    try:
        delivery_id = int(request.GET["d"]) if "d" in request.GET else None
    except ValueError:
        return HttpResponseBadRequest("Bad delivery id.")
    try:
        form = signed_post(request, "MessageSid", "MessageStatus")
    except Refused as refused:
        return refused.response
    ingest(status_report(form, delivery_id))
    return HttpResponse(status=200)  # Twilio reads no body; every stored event is a 200


@login_not_required
@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    """Someone texted our number: STOP and its synonyms opt out, START opts in, HELP helps."""
    try:
        form = signed_post(request, "MessageSid", "From")
    except Refused as refused:
        return refused.response
    body = form.get("Body", "")
    report = Report(
        provider="twilio",
        event_id=form["MessageSid"],
        kind="sms",
        status="inbound",
        provider_id=form["MessageSid"],
        payload=form,
    )
    word = keyword(body)
    if ingest(report) != DUPLICATE and word in STOP_WORDS | START_WORDS:
        set_sms_consent(form["From"], opted_out=word in STOP_WORDS, detail=body)
    if word in HELP_WORDS:
        return twiml(settings.HERALD_SMS_HELP_TEXT)
    return twiml()


def set_sms_consent(sender: str, *, opted_out: bool, detail: str) -> int:
    """Opt every contact with this phone number out of (or back in to) SMS."""
    try:
        phone = normalize_phone(sender)
    except ValidationError:  # a short code or an alphanumeric sender: no contact has it
        return 0
    changed = 0
    for contact in Contact.objects.filter(phone=phone):
        changed += contact.set_consent(
            "sms", opted_out=opted_out, source=ConsentChange.Source.INBOUND_SMS, detail=detail
        )
    return changed
