"""ESP tracking webhooks through django-anymail: /webhooks/anymail/<esp>/tracking/.

Anymail's views parse each ESP's payload into normalized tracking events and check the
webhook's basic auth (ANYMAIL["WEBHOOK_SECRET"], "user:password" in the URL given to the
ESP). Herald serves them with two changes (`urlpatterns`): a failed check answers 403, as
every Herald webhook does, where anymail answers 400; and with no WEBHOOK_SECRET configured
every event is refused rather than accepted from anyone.

`record_tracking_event`, connected to `anymail.signals.tracking` when the app is ready, maps
each event to a `channels.events.Report`:

- delivered → delivered; rejected or failed → failed;
- bounced → bounced, and a hard bounce opts the contact out of email (hard_bounce);
- complained → the contact is opted out of email (complaint); the outcome stays;
- unsubscribed (at the ESP) → opted out (unsubscribe_link);
- anything else (queued, sent, deferred, opened, clicked …) is recorded and changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from functools import wraps

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, EventType
from anymail.utils import get_anymail_setting
from django.http import HttpResponseForbidden
from django.urls import URLPattern

from ..events import Report, ingest

log = logging.getLogger("herald.webhooks")

PROVIDER = "anymail"

OUTCOMES = {
    EventType.DELIVERED: "delivered",
    EventType.BOUNCED: "bounced",
    EventType.REJECTED: "failed",
    EventType.FAILED: "failed",
}
OPT_OUTS = {
    EventType.COMPLAINED: "complaint",
    EventType.UNSUBSCRIBED: "unsubscribe_link",
}


def record_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """anymail.signals.tracking receiver: one ESP event into the ledger (once)."""
    report = report_for(event, esp_name)
    result = ingest(report)
    log.debug("%s %s event %s: %s", esp_name, event.event_type, report.event_id, result)


def report_for(event: AnymailTrackingEvent, esp_name: str) -> Report:
    outcome = OUTCOMES.get(event.event_type, "")
    opt_out = OPT_OUTS.get(event.event_type, "")
    if event.event_type == EventType.BOUNCED and is_hard_bounce(event):
        opt_out = "hard_bounce"
    error = ""
    if outcome in ("bounced", "failed") or opt_out:
        error = " ".join(filter(None, [event.description, event.mta_response]))
    return Report(
        provider=PROVIDER,
        event_id=event_id(event),
        kind="email",
        status=str(event.event_type)[:40],
        outcome=outcome,
        provider_id=str(event.message_id or ""),
        delivery_id=delivery_id(event),
        error=error,
        payload={"esp": esp_name, "event": jsonable(event.esp_event)},
        opt_out=opt_out,
    )


def event_id(event: AnymailTrackingEvent) -> str:
    """The ESP's event id, or (message id, event type, timestamp) where it gives none
    (Postmark's delivery events), so a retried webhook is still recognised."""
    if event.event_id:
        return str(event.event_id)
    when = event.timestamp.isoformat() if event.timestamp else ""
    return f"{event.message_id or ''}:{event.event_type}:{when}"


def delivery_id(event: AnymailTrackingEvent) -> int | None:
    """The `delivery_id` metadata the message was sent with (ESPs echo it back as text)."""
    value = (event.metadata or {}).get("delivery_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# Postmark's bounce types that anymail reports as `bounced` although they are not permanent.
SOFT_TYPES = frozenset({"softbounce", "transient", "dnserror", "virusnotification"})
TEMPORARY_REPLY = re.compile(r"^\D{0,10}4\d\d\b|\b4\.\d{1,3}\.\d{1,3}\b")


def is_hard_bounce(event: AnymailTrackingEvent) -> bool:
    """Whether a `bounced` event is permanent: the address cannot receive mail.

    Most ESPs report only permanent failures as bounced (temporary ones are `deferred`);
    some report soft bounces as bounced too, with their own word for it, read here: Postmark
    (Type SoftBounce), Amazon SES (bounceType Transient), Mandrill and MailerSend (soft in
    the event name). Otherwise an SMTP 4xx reply is temporary, and anything else permanent.
    """
    raw = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    if "RecordType" in raw:  # Postmark
        kind = raw.get("Type") or raw.get("SuppressionReason") or ""
        return str(kind) == "HardBounce"
    bounce = raw.get("bounce") or raw.get("Bounce")
    if isinstance(bounce, Mapping) and "bounceType" in bounce:  # Amazon SES
        return bounce["bounceType"] == "Permanent"
    names = [str(raw.get(key, "")).lower() for key in ("event", "type", "Type")]
    if any("soft" in name or name in SOFT_TYPES for name in names):
        return False
    return not TEMPORARY_REPLY.search(event.mta_response or "")


def jsonable(value) -> dict | list:
    """The ESP's raw event as JSON for the stored event (a dict, a list or a QueryDict)."""
    if hasattr(value, "lists"):
        value = {key: values if len(values) > 1 else values[0] for key, values in value.lists()}
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return {"raw": str(value)}


# -- the URLs ----------------------------------------------------------------------------------


def webhook_secret():
    """ANYMAIL["WEBHOOK_SECRET"] (or ANYMAIL_WEBHOOK_SECRET), as anymail itself reads it."""
    return get_anymail_setting("webhook_secret", default=None)


def refuse_failed_checks(view):
    """403 for a webhook whose basic auth (or signature) does not check out, or when no
    WEBHOOK_SECRET is configured; anymail's own answer would be a 400, or acceptance."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.method == "POST" and not webhook_secret():
            log.warning("ESP webhook refused: ANYMAIL_WEBHOOK_SECRET is not set")
            return HttpResponseForbidden("Set ANYMAIL_WEBHOOK_SECRET to accept ESP webhooks.")
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            log.warning("ESP webhook refused: %s", exc)
            return HttpResponseForbidden("Webhook authentication failed.")

    return checked


app_name = anymail_urls.app_name
urlpatterns = [
    URLPattern(
        pattern.pattern, refuse_failed_checks(pattern.callback), pattern.default_args, pattern.name
    )
    for pattern in anymail_urls.urlpatterns
]
