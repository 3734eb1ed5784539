"""/webhooks/vapi/: Vapi's server messages, with its shared secret, applied once."""

import pytest
from django.urls import reverse

from channels import dispatch
from channels.models import Channel, Delivery, ProviderEvent
from tests.channels.fake_vapi import end_of_call_report, post, use_fake_vapi
from tests.channels.test_events import counters, ledger_counters
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_vapi(httpserver, settings, use_provider, fast_engine):
    return use_fake_vapi(httpserver, settings, use_provider)


def calling_channel(size=1, **fields) -> Channel:
    """A running voice channel whose calls Vapi has accepted."""
    contact_list = ContactListFactory(size=size)
    fields.setdefault("max_concurrent", size)
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list), kind=Channel.Kind.AI_VOICE, **fields
    )
    channel.start()
    # Calls stay open until their report comes, so this runs the whole timeout.
    return dispatch.run_until_idle(channel_id=channel.pk, timeout=0.3)


def only_call(fake_vapi) -> str:
    (call_id,) = fake_vapi.calls
    return call_id


def test_it_applies_an_end_of_call_report_with_its_details(
    client, fake_vapi, django_capture_on_commit_callbacks
):
    channel = calling_channel()
    call_id = only_call(fake_vapi)
    with django_capture_on_commit_callbacks(execute=True):
        response = fake_vapi.end(client, call_id, "customer-ended-call", durationSeconds=102.5)

    assert response.status_code == 200
    assert response.json() == {"result": "applied"}
    delivery = Delivery.objects.get(channel=channel)
    assert (delivery.state, delivery.outcome) == ("done", "answered")
    assert delivery.provider_id == call_id
    assert delivery.details == {
        "duration_seconds": 102.5,
        "ended_reason": "customer-ended-call",
        "transcript": "AI: Hello Ada, this is Herald calling.\nUser: Send me a brochure.",
        "summary": "They asked for a brochure.",
        "recording_url": f"https://storage.vapi.ai/{call_id}-mono.wav",
        "success_evaluation": "false",
    }
    assert not delivery.converted
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED
    assert counters(channel) == ledger_counters(channel)


def test_it_takes_the_duration_from_start_and_end_when_vapi_gives_none(client, fake_vapi):
    channel = calling_channel()
    fake_vapi.end(client, only_call(fake_vapi), "assistant-ended-call")
    assert Delivery.objects.get(channel=channel).details["duration_seconds"] == 102.5


@pytest.mark.parametrize("secret", ["not-the-secret", "", None])
def test_it_refuses_a_wrong_or_missing_secret_and_changes_nothing(client, fake_vapi, secret):
    channel = calling_channel()
    call_id = only_call(fake_vapi)
    message = end_of_call_report(call_id, fake_vapi.calls[call_id], "customer-ended-call")

    response = post(client, message, secret=secret)

    assert response.status_code == 403
    assert not ProviderEvent.objects.exists()
    assert Delivery.objects.get(channel=channel).state == Delivery.State.ACCEPTED


def test_it_refuses_everything_while_no_secret_is_configured(client, fake_vapi, settings):
    settings.VAPI_WEBHOOK_SECRET = ""
    calling_channel()
    response = post(client, {"type": "status-update", "call": {"id": "x"}}, secret="")
    assert response.status_code == 403
    assert not ProviderEvent.objects.exists()


def test_a_duplicate_report_changes_nothing(client, fake_vapi, django_capture_on_commit_callbacks):
    channel = calling_channel()
    call_id = only_call(fake_vapi)
    message = end_of_call_report(call_id, fake_vapi.calls[call_id], "customer-busy")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, message).json() == {"result": "applied"}
    again = {**message, "endedReason": "customer-ended-call"}
    assert post(client, again).json() == {"result": "duplicate"}

    assert ProviderEvent.objects.count() == 1
    assert Delivery.objects.get(channel=channel).outcome == "busy"
    assert counters(channel) == ledger_counters(channel)


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("customer-did-not-answer", "no_answer"),
        ("customer-busy", "busy"),
        ("voicemail", "voicemail"),
        ("assistant-ended-call-after-voicemail-detected", "voicemail"),
        ("customer-ended-call", "answered"),
        ("assistant-ended-call", "answered"),
        ("assistant-said-end-call-phrase", "answered"),
        ("exceeded-max-duration", "answered"),
        ("silence-timed-out", "answered"),
        ("pipeline-error-openai-llm-failed", "failed"),
        ("twilio-failed-to-connect-call", "failed"),
        ("assistant-error", "failed"),
        ("call.in-progress.error-vapifault-worker-died", "failed"),
    ],
)
def test_each_ended_reason_becomes_its_outcome(client, fake_vapi, reason, outcome):
    channel = calling_channel()
    fake_vapi.end(client, only_call(fake_vapi), reason)
    delivery = Delivery.objects.get(channel=channel)
    assert delivery.outcome == outcome
    assert delivery.state == ("failed" if outcome == "failed" else "done")
    assert delivery.details["ended_reason"] == reason
    assert delivery.error == (f"Call ended: {reason}" if outcome == "failed" else "")
    assert counters(channel) == ledger_counters(channel)


@pytest.mark.parametrize("evaluation", ["true", True, "Pass", 8, "85", "Excellent"])
def test_a_passing_evaluation_converts_when_the_channel_says_so(client, fake_vapi, evaluation):
    channel = calling_channel(convert_on_success=True)
    analysis = {"successEvaluation": evaluation}
    fake_vapi.end(client, only_call(fake_vapi), "customer-ended-call", analysis=analysis)
    assert Delivery.objects.get(channel=channel).converted
    assert counters(channel)["converted"] == 1
    assert counters(channel) == ledger_counters(channel)


@pytest.mark.parametrize("evaluation", ["false", False, "Fail", 3, "40", "Poor", None])
def test_a_failing_evaluation_never_converts(client, fake_vapi, evaluation):
    channel = calling_channel(convert_on_success=True)
    analysis = {"successEvaluation": evaluation}
    fake_vapi.end(client, only_call(fake_vapi), "customer-ended-call", analysis=analysis)
    assert not Delivery.objects.get(channel=channel).converted
    assert counters(channel)["converted"] == 0


def test_a_passing_evaluation_does_not_convert_when_the_channel_is_off(client, fake_vapi):
    channel = calling_channel(convert_on_success=False)
    analysis = {"successEvaluation": "true"}
    fake_vapi.end(client, only_call(fake_vapi), "customer-ended-call", analysis=analysis)
    delivery = Delivery.objects.get(channel=channel)
    assert (delivery.outcome, delivery.converted) == ("answered", False)
    assert delivery.details["success_evaluation"] == "true"
    assert counters(channel)["converted"] == 0


def test_a_status_update_before_the_report_is_noted(client, fake_vapi):
    channel = calling_channel()
    call_id = only_call(fake_vapi)
    call = {"id": call_id, "metadata": fake_vapi.calls[call_id]["metadata"]}
    ringing = {"type": "status-update", "status": "ringing", "timestamp": 1, "call": call}

    assert post(client, ringing).json() == {"result": "noted"}
    assert post(client, ringing).json() == {"result": "duplicate"}
    assert post(client, {**ringing, "status": "in-progress", "timestamp": 2}).status_code == 200
    fake_vapi.end(client, call_id, "customer-ended-call")

    assert ProviderEvent.objects.filter(status="ringing").get().result == "noted"
    assert Delivery.objects.get(channel=channel).outcome == "answered"


def test_other_message_types_are_answered_and_ignored(client, fake_vapi):
    message = {"type": "speech-update", "status": "started", "call": {"id": "019a-call-1"}}
    response = post(client, message)
    assert response.status_code == 200
    assert response.json() == {"result": "ignored"}
    assert not ProviderEvent.objects.exists()


def test_a_report_for_an_unknown_call_is_stored_and_changes_nothing(client, fake_vapi):
    channel = calling_channel()
    before = counters(channel)
    message = end_of_call_report("unknown-call", {"metadata": {}}, "customer-ended-call")

    response = post(client, message)

    assert response.status_code == 200
    assert response.json() == {"result": "unknown"}
    assert ProviderEvent.objects.get().result == "unknown"
    assert Delivery.objects.get(channel=channel).state == Delivery.State.ACCEPTED
    assert counters(channel) == before


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b"{not json",
        b'{"no message": {}}',
        b'{"message": {"call": {"id": "x"}}}',
        b'{"message": "end-of-call-report"}',
        b"[1, 2]",
    ],
)
def test_it_refuses_a_malformed_body(client, fake_vapi, body):
    response = client.post(
        reverse("webhooks:vapi"),
        data=body,
        content_type="application/json",
        headers={"X-Vapi-Secret": "vapi-shared-secret"},
    )
    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_it_refuses_a_body_over_one_megabyte(client, fake_vapi):
    message = {"type": "end-of-call-report", "call": {"id": "x"}, "transcript": "a" * 2**20}
    response = post(client, message)
    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_it_answers_only_post(client, fake_vapi):
    assert client.get(reverse("webhooks:vapi")).status_code == 405


def test_a_channel_calls_its_audience_never_more_than_max_concurrent_at_once(
    client, fake_vapi, django_capture_on_commit_callbacks
):
    channel = calling_channel(size=5, max_concurrent=2)
    for _ in range(10):
        if channel.status == Channel.Status.COMPLETED:
            break
        assert 0 < len(fake_vapi.open) <= 2
        with django_capture_on_commit_callbacks(execute=True):
            for call_id in sorted(fake_vapi.open):
                response = fake_vapi.end(client, call_id, "customer-ended-call")
                assert response.json() == {"result": "applied"}
        channel = dispatch.run_until_idle(channel_id=channel.pk, timeout=0.6)

    assert channel.status == Channel.Status.COMPLETED
    assert len(fake_vapi.calls) == 5
    assert fake_vapi.max_open == 2
    assert Delivery.objects.filter(channel=channel, outcome="answered").count() == 5
    assert counters(channel) == ledger_counters(channel)
    sent_to = [body["customer"]["number"] for body in fake_vapi.calls.values()]
    assert len(set(sent_to)) == 5


def test_the_contacts_history_shows_the_call(client, viewer, fake_vapi):
    channel = calling_channel()
    call_id = only_call(fake_vapi)
    fake_vapi.end(client, call_id, "customer-ended-call", durationSeconds=95)
    delivery = Delivery.objects.get(channel=channel)
    client.force_login(viewer)

    page = client.get(delivery.contact.get_absolute_url()).content.decode()

    assert "They asked for a brochure." in page
    assert "<dt>Duration</dt><dd>1 min 35 s</dd>" in page
    assert "<dt>Ended</dt><dd>customer-ended-call</dd>" in page
    assert (
        f'<a href="https://storage.vapi.ai/{call_id}-mono.wav" rel="noopener noreferrer"' in page
    )
    assert "<summary>Transcript</summary>" in page
    assert "AI: Hello Ada, this is Herald calling." in page


def test_the_history_escapes_what_the_call_reported(client, viewer, fake_vapi):
    channel = calling_channel()
    call_id = only_call(fake_vapi)
    fields = {
        "artifact": {"transcript": "<script>alert(1)</script>", "recordingUrl": "javascript:x"},
        "analysis": {"summary": "<img src=x onerror=alert(1)>"},
    }
    fake_vapi.end(client, call_id, "customer-ended-call", **fields)
    delivery = Delivery.objects.get(channel=channel)
    client.force_login(viewer)

    page = client.get(delivery.contact.get_absolute_url()).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "javascript:x" not in page
    assert delivery.details.get("recording_url") is None
