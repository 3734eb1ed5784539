"""The `anymail` provider through anymail's real Postmark backend, against a Postmark-like API
(pytest-httpserver), and Postmark's tracking webhooks through anymail's views."""

import base64
import json
import uuid
from itertools import count

import pytest
from werkzeug import Response

from campaigns.models import ConsentChange, Contact
from channels import dispatch
from channels.models import Channel, Delivery, ProviderEvent
from channels.providers import provider_for
from channels.webhooks.anymail import is_hard_bounce
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db

POSTMARK = "anymail.backends.postmark.EmailBackend"
SECRET = "herald:webhook-secret"
INACTIVE = "inactive@example.com"
BROKEN = "broken@example.com"


class PostmarkAPI:
    """Answers POST /email as Postmark's API does: an id per message; 422 with ErrorCode 406
    for an inactive recipient; a 500 for BROKEN."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.ids = count(1)

    def __call__(self, request) -> Response:
        payload = json.loads(request.get_data())
        to = payload["To"]
        if INACTIVE in to:
            return self.json(
                {
                    "ErrorCode": 406,
                    "Message": "You tried to send to a recipient that has been marked as "
                    f"inactive.\nFound inactive addresses: {INACTIVE}.\nInactive recipients "
                    "are ones that have generated a hard bounce or a spam complaint.",
                },
                status=422,
            )
        if BROKEN in to:
            return Response("Internal Server Error", status=500)
        self.sent.append({"payload": payload, "token": request.headers["X-Postmark-Server-Token"]})
        message_id = str(uuid.UUID(int=next(self.ids)))
        self.sent[-1]["id"] = message_id
        return self.json(
            {
                "To": to,
                "SubmittedAt": "2026-12-02T10:00:00.0000000-05:00",
                "MessageID": message_id,
                "ErrorCode": 0,
                "Message": "OK",
            }
        )

    @staticmethod
    def json(body: dict, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def postmark(httpserver, settings, email_provider):
    api = PostmarkAPI()
    httpserver.expect_request("/email", method="POST").respond_with_handler(api)
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
        "anymail": {"BACKEND": POSTMARK},
    }
    settings.HERALD_ANYMAIL_BACKEND = POSTMARK
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "server-token",
        "POSTMARK_API_URL": httpserver.url_for("/"),
        "WEBHOOK_SECRET": SECRET,
    }
    settings.HERALD_PUBLIC_URL = "https://herald.example.com"
    settings.DEFAULT_FROM_EMAIL = "Herald <herald@example.com>"
    email_provider("anymail")
    return api


def email_channel(contacts: list[Contact], **fields) -> Channel:
    contact_list = ContactListFactory()
    contact_list.add_contacts([contact.pk for contact in contacts])
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list), kind=Channel.Kind.EMAIL, **fields
    )
    channel.start()
    return dispatch.run_until_idle(channel_id=channel.pk, timeout=30)


def outcomes(channel: Channel) -> dict:
    channel.refresh_from_db()
    return {outcome: n for outcome, n in channel.outcome_counts.items() if n}


def auth(secret: str = SECRET) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


def post_event(client, event: dict, secret: str = SECRET, *, capture=None):
    """POST one Postmark webhook to anymail's tracking view, as Postmark does."""
    url = "/webhooks/anymail/postmark/tracking/"
    if capture is None:
        return client.post(url, json.dumps(event), "application/json", headers=auth(secret))
    with capture(execute=True):
        return client.post(url, json.dumps(event), "application/json", headers=auth(secret))


def delivery_event(delivery: Delivery, *, at="2026-12-02T10:00:05.1234567-05:00") -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": delivery.provider_id,
        "Recipient": delivery.contact.email,
        "Tag": "",
        "DeliveredAt": at,
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": {"delivery_id": str(delivery.pk)},
    }


def bounce_event(delivery: Delivery, bounce_type: str = "HardBounce", *, bounce_id=901542550):
    return {
        "RecordType": "Bounce",
        "ID": bounce_id,
        "Type": bounce_type,
        "TypeCode": 1 if bounce_type == "HardBounce" else 4096,
        "Name": "Hard bounce" if bounce_type == "HardBounce" else "Soft bounce",
        "MessageID": delivery.provider_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist."
        if bounce_type == "HardBounce"
        else "smtp;452 4.2.2 Mailbox full",
        "Email": delivery.contact.email,
        "From": "herald@example.com",
        "BouncedAt": "2026-12-02T10:00:09.3963933-05:00",
        "DumpAvailable": False,
        "Inactive": bounce_type == "HardBounce",
        "CanActivate": True,
        "Subject": "News",
        "Metadata": {"delivery_id": str(delivery.pk)},
    }


def complaint_event(delivery: Delivery) -> dict:
    return {
        "RecordType": "SpamComplaint",
        "ID": 42424242,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "",
        "MessageID": delivery.provider_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "",
        "Details": "Test spam complaint details",
        "Email": delivery.contact.email,
        "From": "herald@example.com",
        "BouncedAt": "2026-12-02T11:00:00.0000000-05:00",
        "DumpAvailable": False,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "News",
        "Metadata": {"delivery_id": str(delivery.pk)},
    }


# -- sending ---------------------------------------------------------------------------------


def test_it_sends_through_the_esp_and_waits_for_its_events(postmark):
    zoe = ContactFactory(name="Zoë Ålund", email="zoe@example.com")
    others = ContactFactory.create_batch(2)
    channel = email_channel(
        [zoe, *others],
        email_subject="Frühling ☀ {first_name}",
        email_body="<p>Hallo {first_name}</p>",
        email_from="news@example.org",
    )

    assert channel.status == Channel.Status.RUNNING  # outcomes come by webhook
    assert channel.in_flight == 3 and channel.outcome_counts == {"sent": 3}
    deliveries = {d.contact_id: d for d in Delivery.objects.filter(channel=channel)}
    assert {d.state for d in deliveries.values()} == {Delivery.State.ACCEPTED}
    assert {d.provider_id for d in deliveries.values()} == {s["id"] for s in postmark.sent}

    [to_zoe] = [s for s in postmark.sent if "zoe@example.com" in s["payload"]["To"]]
    payload = to_zoe["payload"]
    assert to_zoe["token"] == "server-token"
    assert to_zoe["id"] == deliveries[zoe.pk].provider_id
    assert payload["From"] == "news@example.org"
    assert payload["To"] == "Zoë Ålund <zoe@example.com>"
    assert payload["Subject"] == "Frühling ☀ Zoë"
    assert payload["HtmlBody"] == "<p>Hallo Zoë</p>"
    assert payload["TextBody"].strip() == "Hallo Zoë"
    assert payload["Metadata"] == {"delivery_id": str(deliveries[zoe.pk].pk)}
    headers = {header["Name"]: header["Value"] for header in payload["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<https://herald.example.com/unsubscribe/")
    assert headers["List-Unsubscribe"].endswith("?subject=unsubscribe>")


def test_a_recipient_the_esp_refuses_or_an_api_error_fails_that_delivery_only(postmark):
    inactive = ContactFactory(email=INACTIVE)
    broken = ContactFactory(email=BROKEN)
    fine = ContactFactory()
    channel = email_channel([inactive, broken, fine])

    rows = {d.contact_id: d for d in Delivery.objects.filter(channel=channel)}
    assert (rows[inactive.pk].state, rows[inactive.pk].outcome) == ("failed", "failed")
    assert "rejected" in rows[inactive.pk].error
    assert (rows[broken.pk].state, rows[broken.pk].outcome) == ("failed", "failed")
    assert "Postmark API response 500" in rows[broken.pk].error
    assert (rows[fine.pk].state, rows[fine.pk].outcome) == ("accepted", "sent")
    assert channel.outcome_counts == {"failed": 2, "sent": 1}


def test_without_a_backend_the_provider_says_what_is_missing(settings):
    settings.HERALD_ANYMAIL_BACKEND = ""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.ANYMAIL = {}
    from channels.providers import Outgoing
    from channels.providers.anymail import AnymailProvider

    provider = AnymailProvider("email")
    assert provider.missing_settings() == ["HERALD_ANYMAIL_BACKEND", "ANYMAIL_WEBHOOK_SECRET"]
    answer = provider.send_many([Outgoing(1, 1, 1, "email", "a@example.com", {"body": "x"})])
    assert "Set HERALD_ANYMAIL_BACKEND" in str(answer[0])


def test_it_names_the_webhook_to_give_the_esp(postmark):
    assert provider_for("email").webhook_urls == ("anymail:postmark_tracking_webhook",)
    assert provider_for("email").missing_settings() == []


# -- tracking webhooks -----------------------------------------------------------------------


@pytest.fixture
def sent(postmark):
    """A running email channel of three contacts, each accepted by the ESP."""
    channel = email_channel(ContactFactory.create_batch(3))
    return channel, list(Delivery.objects.filter(channel=channel).select_related("contact"))


def test_delivery_events_deliver_and_complete_the_channel(
    client, sent, django_capture_on_commit_callbacks
):
    channel, deliveries = sent
    for delivery in deliveries:
        answer = post_event(
            client, delivery_event(delivery), capture=django_capture_on_commit_callbacks
        )
        assert answer.status_code == 200
    assert outcomes(channel) == {"delivered": 3}
    assert channel.status == Channel.Status.COMPLETED and channel.in_flight == 0
    assert set(Delivery.objects.filter(channel=channel).values_list("outcome", flat=True)) == {
        "delivered"
    }
    events = ProviderEvent.objects.filter(provider="anymail")
    assert events.count() == 3
    assert set(events.values_list("result", flat=True)) == {ProviderEvent.Result.APPLIED}


def test_a_hard_bounce_bounces_and_opts_the_contact_out(client, sent):
    channel, [first, *_] = sent
    assert post_event(client, bounce_event(first, "HardBounce")).status_code == 200
    first.refresh_from_db()
    first.contact.refresh_from_db()
    assert (first.state, first.outcome) == (Delivery.State.DONE, "bounced")
    assert "550 5.1.1" in first.error
    assert first.contact.opted_out_email
    [change] = ConsentChange.objects.filter(contact=first.contact)
    assert (change.kind, change.source) == ("email", ConsentChange.Source.HARD_BOUNCE)


def test_a_soft_bounce_bounces_without_opting_out(client, sent):
    channel, [first, *_] = sent
    assert post_event(client, bounce_event(first, "SoftBounce")).status_code == 200
    first.refresh_from_db()
    first.contact.refresh_from_db()
    assert first.outcome == "bounced"
    assert not first.contact.opted_out_email
    assert not ConsentChange.objects.exists()


def test_a_complaint_opts_out_and_keeps_the_outcome(client, sent):
    channel, [first, *_] = sent
    post_event(client, delivery_event(first))
    assert post_event(client, complaint_event(first)).status_code == 200
    first.refresh_from_db()
    first.contact.refresh_from_db()
    assert first.outcome == "delivered"
    assert first.contact.opted_out_email
    [change] = ConsentChange.objects.filter(contact=first.contact)
    assert change.source == ConsentChange.Source.COMPLAINT
    assert ProviderEvent.objects.get(event_id="42424242").result == ProviderEvent.Result.NOTED


def test_an_unsubscribe_at_the_esp_opts_out(client, sent):
    channel, [first, *_] = sent
    event = {
        "RecordType": "SubscriptionChange",
        "MessageID": first.provider_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "ChangedAt": "2026-12-02T12:00:00Z",
        "Recipient": first.contact.email,
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": "",
        "Metadata": {"delivery_id": str(first.pk)},
    }
    assert post_event(client, event).status_code == 200
    first.contact.refresh_from_db()
    assert first.contact.opted_out_email
    assert ConsentChange.objects.get().source == ConsentChange.Source.UNSUBSCRIBE_LINK


def test_a_repeated_webhook_changes_nothing(client, sent):
    channel, [first, second, _] = sent
    for _ in range(2):
        assert post_event(client, bounce_event(first)).status_code == 200
        assert post_event(client, delivery_event(second)).status_code == 200
    assert outcomes(channel) == {"bounced": 1, "delivered": 1, "sent": 1}
    assert channel.processed == 2 and channel.in_flight == 1
    assert ProviderEvent.objects.count() == 2
    assert ConsentChange.objects.count() == 1


def test_a_delivery_after_a_bounce_does_not_undo_it(client, sent):
    channel, [first, *_] = sent
    post_event(client, bounce_event(first))
    assert post_event(client, delivery_event(first)).status_code == 200
    first.refresh_from_db()
    assert first.outcome == "bounced"
    assert outcomes(channel) == {"bounced": 1, "sent": 2}
    results = dict(ProviderEvent.objects.values_list("status", "result"))
    assert results == {"bounced": "applied", "delivered": "stale"}


def test_an_event_without_metadata_finds_its_delivery_by_message_id(client, sent):
    channel, [first, *_] = sent
    event = delivery_event(first)
    del event["Metadata"]
    assert post_event(client, event).status_code == 200
    first.refresh_from_db()
    assert first.outcome == "delivered"


def test_a_deferral_is_noted_and_changes_nothing(client, sent):
    channel, [first, *_] = sent
    assert post_event(client, bounce_event(first, "Transient")).status_code == 200
    first.refresh_from_db()
    assert (first.state, first.outcome) == (Delivery.State.ACCEPTED, "sent")
    assert ProviderEvent.objects.get().result == ProviderEvent.Result.NOTED


@pytest.mark.parametrize("secret", ["herald:wrong", "intruder:webhook-secret", ""])
def test_a_wrong_secret_is_refused_and_changes_nothing(client, sent, secret):
    channel, [first, *_] = sent
    url = "/webhooks/anymail/postmark/tracking/"
    headers = auth(secret) if secret else {}
    answer = client.post(url, json.dumps(bounce_event(first)), "application/json", headers=headers)
    assert answer.status_code == 403
    first.refresh_from_db()
    first.contact.refresh_from_db()
    assert first.outcome == "sent" and not first.contact.opted_out_email
    assert not ProviderEvent.objects.exists() and not ConsentChange.objects.exists()


def test_with_no_secret_configured_every_webhook_is_refused(client, sent, settings):
    channel, [first, *_] = sent
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    answer = client.post(
        "/webhooks/anymail/postmark/tracking/",
        json.dumps(bounce_event(first)),
        "application/json",
    )
    assert answer.status_code == 403
    assert not ProviderEvent.objects.exists()


def test_bounces_that_are_not_permanent_are_told_apart():
    from anymail.signals import AnymailTrackingEvent

    def bounce(esp_event, mta_response=None):
        return AnymailTrackingEvent(
            event_type="bounced", esp_event=esp_event, mta_response=mta_response
        )

    assert is_hard_bounce(bounce({"RecordType": "Bounce", "Type": "HardBounce"}))
    assert not is_hard_bounce(bounce({"RecordType": "Bounce", "Type": "SoftBounce"}))
    assert is_hard_bounce(bounce({"bounce": {"bounceType": "Permanent"}}))  # Amazon SES
    assert not is_hard_bounce(bounce({"bounce": {"bounceType": "Transient"}}))
    assert not is_hard_bounce(bounce({"event": "soft_bounce"}))  # Mandrill
    assert is_hard_bounce(bounce({"event": "hard_bounce"}))
    assert not is_hard_bounce(bounce({}, "smtp;452 4.2.2 Mailbox full"))
    assert is_hard_bounce(bounce({}, "550 5.1.1 User unknown"))
