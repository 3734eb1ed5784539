"""/webhooks/vapi/: Vapi's server messages about the calls Herald placed.

Every message carries the shared secret in the `X-Vapi-Secret` header (set per call by
`channels.providers.vapi`, or on the assistant in Vapi's dashboard); a wrong or missing one
gets 403 and changes nothing. The `end-of-call-report` settles the delivery: its
`endedReason` becomes the outcome, and duration, transcript, summary, recording link and
the assistant's success evaluation go into the delivery's details. `status-update`
messages are stored as noted events; other message types are answered 200 and ignored.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..events import Report, ingest
from ..models import Delivery

PROVIDER = "vapi"
MAX_BODY = 1024 * 1024  # an end-of-call report with a long transcript stays well under this

# endedReason → outcome. Voicemail is any reason that says so; every reason not named here
# is `failed` (Vapi has dozens of errors: `pipeline-error-openai-llm-failed`,
# `twilio-failed-to-connect-call`, `call.in-progress.error-...`).
ENDED_REASONS = {
    "customer-did-not-answer": Delivery.Outcome.NO_ANSWER,
    "customer-busy": Delivery.Outcome.BUSY,
    # A conversation took place, whoever ended it.
    "customer-ended-call": Delivery.Outcome.ANSWERED,
    "assistant-ended-call": Delivery.Outcome.ANSWERED,
    "assistant-said-end-call-phrase": Delivery.Outcome.ANSWERED,
    "assistant-ended-call-after-message-spoken": Delivery.Outcome.ANSWERED,
    "assistant-ended-call-with-hangup-task": Delivery.Outcome.ANSWERED,
    "assistant-forwarded-call": Delivery.Outcome.ANSWERED,
    "exceeded-max-duration": Delivery.Outcome.ANSWERED,
    "silence-timed-out": Delivery.Outcome.ANSWERED,
}
# Success evaluations that pass: Vapi's PassFail rubric says true/false, DescriptiveScale
# Excellent/Good/Fair/Poor; a number passes at 7 and above on the 1–10 NumericScale, at 70
# and above on the 0–100 PercentageScale.
PASSING_WORDS = {"true", "pass", "passed", "yes", "success", "successful", "excellent", "good"}


@login_not_required
@csrf_exempt
@require_POST
def vapi(request: HttpRequest) -> HttpResponse:
    secret = settings.VAPI_WEBHOOK_SECRET
    given = request.headers.get("X-Vapi-Secret", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return HttpResponse("Wrong or missing X-Vapi-Secret.", status=403)
    try:
        if int(request.headers.get("Content-Length") or 0) > MAX_BODY:
            return HttpResponseBadRequest("The message is too large.")
        body = request.body
    except ValueError:
        return HttpResponse("Bad Content-Length.", status=400)
    except RequestDataTooBig:
        return HttpResponseBadRequest("The message is too large.")
    if len(body) > MAX_BODY:
        return HttpResponseBadRequest("The message is too large.")
    try:
        message = json.loads(body.decode("utf-8"))["message"]
        kind = message["type"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return HttpResponse("Expected a JSON object with a message and its type.", status=400)
    if not isinstance(message, dict) or not isinstance(message.get("call") or {}, dict):
        return HttpResponse("Expected a JSON object with a message and its type.", status=400)
    report = to_report(kind, message, payload=message)
    if report is None:
        return JsonResponse({"result": "ignored"})
    return JsonResponse({"result": ingest(report)})


def to_report(kind: str, message: dict, *, payload: dict) -> Report | None:
    call = message.get("call") or {}
    call_id = str(call.get("id") or "")
    if not call_id:
        return None
    delivery_id = metadata_delivery_id(call)
    common = {"provider": PROVIDER, "kind": "ai_voice", "provider_id": call_id}
    if kind == "end-of-call-report":
        reason = str(message.get("endedReason") or call.get("endedReason") or "")
        outcome = outcome_for(reason)
        details = call_details(message, reason)
        converted = passes(details.get("success_evaluation")) and converts_on_success(
            delivery_id=delivery_id, call_id=call_id
        )
        return Report(
            **common,
            event_id=f"{call_id}:end-of-call-report",
            status=reason,
            outcome=outcome,
            final=True,
            delivery_id=delivery_id,
            converted=converted,
            error=f"Call ended: {reason}" if outcome == Delivery.Outcome.FAILED else "",
            details=details,
            payload=payload,
        )
    if kind == "status-update":
        status = str(message.get("status") or "")
        return Report(
            **common,
            event_id=f"{call_id}:{status}:{message.get('timestamp', '')}",
            status=status,
            delivery_id=delivery_id,
            payload=payload,
        )
    return None


def metadata_delivery_id(call: dict) -> int | None:
    value = (call.get("metadata") or {}).get("delivery_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def outcome_for(reason: str) -> str:
    """The outcome an `endedReason` means (see ENDED_REASONS)."""
    if "voicemail" in reason:
        return Delivery.Outcome.VOICEMAIL
    if reason in ENDED_REASONS:
        return ENDED_REASONS[reason]
    # Errors, and anything else (a cancelled call, a reason Vapi adds later), reached no one
    # that we know of; the reason stays in the details and the error text.
    return Delivery.Outcome.FAILED


def call_details(message: dict, reason: str) -> dict:
    """What the report says about the call, in the delivery's `details` names."""
    artifact = message.get("artifact") or {}
    analysis = message.get("analysis") or {}
    details = {
        "duration_seconds": duration(message),
        "ended_reason": reason,
        "transcript": artifact.get("transcript") or message.get("transcript"),
        "summary": analysis.get("summary") or message.get("summary"),
        "recording_url": web_link(artifact.get("recordingUrl") or message.get("recordingUrl")),
        "success_evaluation": analysis.get("successEvaluation"),
    }
    return {key: value for key, value in details.items() if value not in (None, "")}


def web_link(url) -> str | None:
    """Only an https:// link is kept: the contact page shows it as a link."""
    return url if isinstance(url, str) and url.startswith("https://") else None


def duration(message: dict) -> float | None:
    if isinstance(message.get("durationSeconds"), int | float):
        return round(message["durationSeconds"], 1)
    try:
        started = datetime.fromisoformat(message["startedAt"])
        ended = datetime.fromisoformat(message["endedAt"])
    except (KeyError, TypeError, ValueError):
        return None
    return round((ended - started).total_seconds(), 1)


def passes(evaluation) -> bool:
    """Whether the assistant's success evaluation passed (see PASSING_WORDS)."""
    if isinstance(evaluation, bool):
        return evaluation
    if isinstance(evaluation, int | float):
        score = evaluation
    else:
        text = str(evaluation or "").strip().lower()
        if text in PASSING_WORDS:
            return True
        try:
            score = float(text.removesuffix("%"))
        except ValueError:
            return False
    return 7 <= score <= 10 or score >= 70


def converts_on_success(*, delivery_id: int | None, call_id: str) -> bool:
    """Whether the call's channel marks a contact converted on a passing evaluation."""
    deliveries = Delivery.objects.filter(channel__convert_on_success=True)
    if delivery_id is not None:
        return deliveries.filter(pk=delivery_id).exists()
    return deliveries.filter(provider_id=call_id).exists()
