"""Twilio's status and inbound webhooks, signed with Twilio's own RequestValidator."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from campaigns.models import ConsentChange, Contact
from channels import dispatch
from channels.models import Channel, Delivery, ProviderEvent
from tests.channels.fake_twilio import post_signed, signature, status_params
from tests.channels.test_events import counters, ledger_counters
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def audience(size: int):
    contact_list = ContactListFactory()
    contact_list.add_contacts([ContactFactory().pk for _ in range(size)])
    return contact_list


def sent_channel(contact_list, **fields) -> Channel:
    """An SMS channel whose texts Twilio has accepted; their outcomes are still to come."""
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list), kind=Channel.Kind.SMS, **fields
    )
    channel.start()
    return dispatch.run_until_idle(channel_id=channel.pk, timeout=20)


def report_status(client, delivery: Delivery, status: str, **kwargs):
    params = status_params(delivery.provider_id, status, **kwargs)
    return post_signed(client, "webhooks:twilio_status", params, query=f"d={delivery.pk}")


def text_in(client, phone: str, body: str, sid: str = "SM" + "5" * 32):
    params = {"MessageSid": sid, "From": phone, "To": "+12025550100", "Body": body}
    return post_signed(client, "webhooks:twilio_inbound", params)


@pytest.fixture
def delivery(twilio_api) -> Delivery:
    return Delivery.objects.get(channel=sent_channel(audience(1)))


# -- status --------------------------------------------------------------------------------


def test_a_signed_status_callback_settles_the_delivery(
    client, delivery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = report_status(client, delivery, "delivered")
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.state, delivery.outcome) == (Delivery.State.DONE, "delivered")
    event = ProviderEvent.objects.get()
    assert (event.provider, event.event_id, event.result) == (
        "twilio",
        f"{delivery.provider_id}:delivered",
        ProviderEvent.Result.APPLIED,
    )
    assert event.payload["MessageStatus"] == "delivered"
    assert Channel.objects.get().status == Channel.Status.COMPLETED


def test_it_notes_a_status_that_is_no_outcome(client, delivery):
    assert report_status(client, delivery, "sent").status_code == 200
    assert report_status(client, delivery, "queued").status_code == 200
    delivery.refresh_from_db()
    assert (delivery.state, delivery.outcome) == (Delivery.State.ACCEPTED, "sent")
    results = dict(ProviderEvent.objects.values_list("status", "result"))
    assert results == {"sent": ProviderEvent.Result.STALE, "queued": ProviderEvent.Result.NOTED}


@pytest.mark.parametrize(
    "sign_url",
    ["http://testserver/webhooks/twilio/status/", "https://herald.example.com/other/"],
    ids=["the URL this process sees", "another URL"],
)
def test_a_bad_signature_is_refused_and_changes_nothing(client, delivery, sign_url):
    params = status_params(delivery.provider_id, "delivered")
    url = sign_url + f"?d={delivery.pk}"
    response = post_signed(
        client, "webhooks:twilio_status", params, query=f"d={delivery.pk}", url=url
    )
    assert response.status_code == 403
    unsigned = client.post(
        reverse("webhooks:twilio_status") + f"?d={delivery.pk}",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
    )
    assert unsigned.status_code == 403
    assert not ProviderEvent.objects.exists()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.outcome) == (Delivery.State.ACCEPTED, "sent")


def test_a_tampered_callback_is_refused(client, delivery):
    params = status_params(delivery.provider_id, "failed")
    path = reverse("webhooks:twilio_status") + f"?d={delivery.pk}"
    good = signature("https://herald.example.com" + path, params)
    tampered = {**params, "MessageStatus": "delivered"}
    response = client.post(
        path,
        urlencode(tampered),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": good},
    )
    assert response.status_code == 403
    assert not ProviderEvent.objects.exists()


def test_a_repeated_callback_changes_nothing(client, delivery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report_status(client, delivery, "undelivered", error_code="30003")
        before = counters(delivery.channel)
        assert (
            report_status(client, delivery, "undelivered", error_code="30003").status_code == 200
        )
    assert ProviderEvent.objects.count() == 1
    assert counters(delivery.channel) == before == ledger_counters(delivery.channel)
    delivery.refresh_from_db()
    assert delivery.outcome == "undelivered"
    assert delivery.error == "Twilio error 30003: Unreachable destination handset"


def test_a_late_sent_never_undoes_delivered(client, delivery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report_status(client, delivery, "delivered")
        report_status(client, delivery, "sent")
        report_status(client, delivery, "failed")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.outcome) == (Delivery.State.DONE, "delivered")
    assert counters(delivery.channel) == ledger_counters(delivery.channel)
    assert counters(delivery.channel)["outcome_counts"] == {"delivered": 1}


def test_a_failure_for_an_unsubscribed_number_opts_the_contact_out(
    client, delivery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report_status(client, delivery, "failed", error_code="21610")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.outcome) == (Delivery.State.FAILED, "failed")
    assert delivery.contact.opted_out_sms
    change = ConsentChange.objects.get()
    assert change.source == ConsentChange.Source.PROVIDER_REFUSAL and "21610" in change.detail


def test_it_finds_the_delivery_by_message_sid_without_our_id(client, delivery):
    params = status_params(delivery.provider_id, "delivered")
    assert post_signed(client, "webhooks:twilio_status", params).status_code == 200
    delivery.refresh_from_db()
    assert delivery.outcome == "delivered"


@pytest.mark.parametrize(
    ("drop", "query"),
    [("MessageSid", "d=1"), ("MessageStatus", "d=1"), ("", "d=abc")],
    ids=["no MessageSid", "no MessageStatus", "bad delivery id"],
)
def test_a_callback_missing_what_it_needs_is_a_400(client, delivery, drop, query):
    params = status_params(delivery.provider_id, "delivered")
    params.pop(drop, None)
    query = query.replace("1", str(delivery.pk))
    response = post_signed(client, "webhooks:twilio_status", params, query=query)
    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize("name", ["webhooks:twilio_status", "webhooks:twilio_inbound"])
def test_a_body_not_utf8_or_too_large_is_a_400(client, twilio_api, name):
    path = reverse(name)
    form = "application/x-www-form-urlencoded"
    not_utf8 = b"MessageSid=SM1&MessageStatus=delivered&Body=caf\xe9"
    assert client.post(path, not_utf8, content_type=form).status_code == 400
    big = urlencode({"MessageSid": "SM1", "MessageStatus": "sent", "Body": "x" * 70_000})
    assert client.post(path, big, content_type=form).status_code == 400
    assert not ProviderEvent.objects.exists()


def test_it_answers_get_with_405(client, twilio_api):
    assert client.get(reverse("webhooks:twilio_status")).status_code == 405


def test_callbacks_for_every_text_complete_the_channel(
    client, twilio_api, django_capture_on_commit_callbacks
):
    channel = sent_channel(audience(6))
    outcomes = ["delivered", "delivered", "undelivered", "failed", "delivered", "sent"]
    deliveries = list(Delivery.objects.filter(channel=channel).order_by("pk"))
    assert {d.provider_id for d in deliveries} == set(twilio_api.accepted)
    with django_capture_on_commit_callbacks(execute=True):
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            report_status(client, delivery, "sent")
            assert counters(channel) == ledger_counters(channel)
            report_status(client, delivery, outcome)
            assert counters(channel) == ledger_counters(channel)
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING  # one text is only `sent` so far
    with django_capture_on_commit_callbacks(execute=True):
        report_status(client, deliveries[-1], "delivered")
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED
    assert counters(channel) == ledger_counters(channel)
    assert counters(channel)["outcome_counts"] == {"delivered": 4, "undelivered": 1, "failed": 1}


# -- inbound -------------------------------------------------------------------------------


def test_stop_mid_run_stops_every_sms_channel_texting_them(client, twilio_api):
    contact_list = audience(4)
    leaver = contact_list.contacts.order_by("pk").last()
    first = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list),
        kind=Channel.Kind.SMS,
        max_per_second=2,
    )
    first.start()
    dispatch.run_slice(channel_id=first.pk, generation=first.dispatch_generation)
    assert leaver.phone not in twilio_api.to_numbers()  # not reached yet: paced at 2 a second

    response = text_in(client, leaver.phone, "Stop.")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response/>")
    leaver.refresh_from_db()
    assert leaver.opted_out_sms
    change = ConsentChange.objects.get(contact=leaver)
    assert (change.kind, change.opted_out, change.source, change.detail) == (
        "sms",
        True,
        ConsentChange.Source.INBOUND_SMS,
        "Stop.",
    )
    assert ProviderEvent.objects.get().result == ProviderEvent.Result.UNKNOWN

    first = dispatch.run_until_idle(channel_id=first.pk, timeout=20)
    second = sent_channel(contact_list)
    for channel in (first, second):
        skipped = Delivery.objects.get(channel=channel, contact=leaver)
        assert skipped.state == Delivery.State.SKIPPED
    assert leaver.phone not in twilio_api.to_numbers()
    assert len(twilio_api.received) == 6  # three others, on each channel


@pytest.mark.parametrize("word", ["STOP", "stopall", "Unsubscribe!", "cancel", "END", "quit."])
def test_every_stop_word_opts_out_everyone_with_that_number(client, twilio_api, word):
    twins = ContactFactory.create_batch(2, phone="+12025550142")
    other = ContactFactory(phone="+12025550143")
    assert text_in(client, "+12025550142", f"{word} please").status_code == 200
    assert all(Contact.objects.get(pk=c.pk).opted_out_sms for c in twins)
    assert not Contact.objects.get(pk=other.pk).opted_out_sms
    assert ConsentChange.objects.count() == 2


def test_start_opts_back_in_and_other_words_change_nothing(client, twilio_api):
    contact = ContactFactory(phone="+12025550142")
    text_in(client, contact.phone, "STOP", sid="SM1")
    text_in(client, contact.phone, "Don't stop", sid="SM2")
    contact.refresh_from_db()
    assert contact.opted_out_sms
    text_in(client, contact.phone, "unstop", sid="SM3")
    contact.refresh_from_db()
    assert not contact.opted_out_sms
    text_in(client, contact.phone, "Stop by later?", sid="SM4")  # still a STOP
    text_in(client, contact.phone, "start", sid="SM5")
    sources = list(
        ConsentChange.objects.order_by("pk").values_list("opted_out", "source", "detail")
    )
    assert sources == [
        (True, "inbound_sms", "STOP"),
        (False, "inbound_sms", "unstop"),
        (True, "inbound_sms", "Stop by later?"),
        (False, "inbound_sms", "start"),
    ]
    assert ProviderEvent.objects.filter(provider="twilio", status="inbound").count() == 5


def test_help_answers_the_help_text_in_twiml(client, twilio_api, settings):
    settings.HERALD_SMS_HELP_TEXT = "Herald <alerts> & news. Reply STOP to unsubscribe."
    contact = ContactFactory()
    response = text_in(client, contact.phone, "help")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        "Herald &lt;alerts&gt; &amp; news. Reply STOP to unsubscribe.</Message></Response>"
    )
    contact.refresh_from_db()
    assert not contact.opted_out_sms


def test_the_default_help_text_names_herald_and_stop(client, twilio_api):
    body = text_in(client, "+12025550142", "HELP").content.decode()
    assert "Herald" in body and "Reply STOP to unsubscribe" in body


def test_a_repeated_inbound_text_is_stored_once(client, twilio_api):
    contact = ContactFactory()
    text_in(client, contact.phone, "STOP", sid="SM1")
    contact.set_consent("sms", opted_out=False, source="manager")
    assert text_in(client, contact.phone, "STOP", sid="SM1").status_code == 200
    contact.refresh_from_db()
    assert not contact.opted_out_sms  # Twilio's retry of a text already handled
    assert ProviderEvent.objects.count() == 1


def test_an_unsigned_stop_is_refused_and_changes_nothing(client, twilio_api):
    contact = ContactFactory()
    params = {"MessageSid": "SM1", "From": contact.phone, "Body": "STOP"}
    response = client.post(
        reverse("webhooks:twilio_inbound"),
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={
            "X-Twilio-Signature": signature("http://testserver/webhooks/twilio/inbound/", params)
        },
    )
    assert response.status_code == 403
    contact.refresh_from_db()
    assert not contact.opted_out_sms
    assert not ProviderEvent.objects.exists() and not ConsentChange.objects.exists()


@pytest.mark.parametrize("drop", ["MessageSid", "From"])
def test_an_inbound_text_missing_what_it_needs_is_a_400(client, twilio_api, drop):
    params = {"MessageSid": "SM1", "From": "+12025550142", "Body": "STOP"}
    params.pop(drop)
    assert post_signed(client, "webhooks:twilio_inbound", params).status_code == 400
    assert not ProviderEvent.objects.exists()


def test_it_stores_a_status_for_an_unknown_message_and_answers_200(client, delivery):
    before = Delivery.objects.values_list("state", "outcome").get(pk=delivery.pk)
    params = status_params("SM" + "9" * 32, "delivered")
    response = post_signed(client, "webhooks:twilio_status", params)
    assert response.status_code == 200
    event = ProviderEvent.objects.get(provider_id="SM" + "9" * 32)
    assert (event.result, event.delivery) == ("unknown", None)
    assert Delivery.objects.values_list("state", "outcome").get(pk=delivery.pk) == before
