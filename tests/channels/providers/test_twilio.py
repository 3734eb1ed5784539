"""The Twilio provider: the real SDK against a local server that answers as Twilio does."""

import pytest

from campaigns.models import ConsentChange, Contact
from channels import dispatch
from channels.models import Channel, Delivery
from channels.providers import Outgoing, ProviderError, RateLimited, provider_for
from tests.channels.fake_twilio import (
    ACCOUNT_SID,
    FROM_NUMBER,
    PUBLIC_URL,
    SERVER_ERROR,
    SERVICE_SID,
    TOO_MANY,
    UNSUBSCRIBED,
    basic_auth,
)
from tests.channels.test_events import counters, ledger_counters
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def sms_channel(*names: str, **fields) -> Channel:
    contact_list = ContactListFactory()
    contacts = [ContactFactory(name=name) for name in names]
    contact_list.add_contacts([c.pk for c in contacts])
    return ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list), kind=Channel.Kind.SMS, **fields
    )


def run(channel: Channel) -> Channel:
    channel.start()
    return dispatch.run_until_idle(channel_id=channel.pk, timeout=20)


def test_it_sends_each_text_through_twilio_and_waits_for_its_outcome(twilio_api):
    channel = run(
        sms_channel("Ana Lima", "Bo Chen", sms_template="Hi {first_name}, it is Herald.")
    )

    deliveries = Delivery.objects.filter(channel=channel).select_related("contact")
    assert {d.state for d in deliveries} == {Delivery.State.ACCEPTED}
    assert {d.outcome for d in deliveries} == {"sent"}
    assert {d.provider_id for d in deliveries} == set(twilio_api.accepted)
    assert channel.status == Channel.Status.RUNNING and channel.in_flight == 2
    assert counters(channel) == ledger_counters(channel)
    by_to = {form["To"]: form for form in twilio_api.received}
    for delivery in deliveries:
        form = by_to[delivery.contact.phone]
        assert form["Body"] == f"Hi {delivery.contact.name.split()[0]}, it is Herald."
        assert form["MessagingServiceSid"] == SERVICE_SID
        assert "From" not in form
        assert form["StatusCallback"] == (f"{PUBLIC_URL}/webhooks/twilio/status/?d={delivery.pk}")
        assert twilio_api.accepted[delivery.provider_id] == delivery.contact.phone
    assert twilio_api.auth == [basic_auth()] * 2


def test_it_sends_from_the_number_or_the_channels_own_sender(twilio_api, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    run(sms_channel("Ana Lima"))
    run(sms_channel("Bo Chen", sms_sender="HERALD"))
    first, second = twilio_api.received
    assert first["From"] == FROM_NUMBER and "MessagingServiceSid" not in first
    assert second["From"] == "HERALD"


def test_it_says_which_settings_are_missing(twilio_api, settings):
    provider = provider_for("sms")
    assert provider.name == "twilio" and provider.latency > 0
    assert provider.missing_settings() == []
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    assert provider.missing_settings() == [
        "TWILIO_AUTH_TOKEN",
        "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER",
    ]
    assert provider.webhook_urls == ("webhooks:twilio_status", "webhooks:twilio_inbound")


@pytest.mark.django_db(transaction=True)  # the opt-out is written from a send thread
def test_a_send_refused_as_unsubscribed_opts_the_contact_out_and_fails(twilio_api):
    channel = sms_channel("Ana Lima", "Bo Chen")
    bo = Contact.objects.get(name="Bo Chen")
    twilio_api.refusals[bo.phone] = UNSUBSCRIBED
    channel = run(channel)

    failed = Delivery.objects.get(channel=channel, contact=bo)
    assert failed.state == Delivery.State.FAILED and failed.outcome == "failed"
    assert "21610" in failed.error and "unsubscribed recipient" in failed.error
    bo.refresh_from_db()
    assert bo.opted_out_sms
    change = ConsentChange.objects.get(contact=bo)
    assert (change.kind, change.opted_out, change.source) == (
        "sms",
        True,
        ConsentChange.Source.PROVIDER_REFUSAL,
    )
    assert "21610" in change.detail
    ana = Delivery.objects.get(channel=channel, contact__name="Ana Lima")
    assert ana.state == Delivery.State.ACCEPTED
    assert not Contact.objects.get(name="Ana Lima").opted_out_sms
    assert counters(channel) == ledger_counters(channel)


@pytest.mark.parametrize(
    ("refusal", "words"),
    [(TOO_MANY, "20429"), (SERVER_ERROR, "HTTP 500")],
    ids=["429", "500"],
)
def test_a_refused_send_fails_that_delivery_once(twilio_api, refusal, words):
    channel = sms_channel("Ana Lima", "Bo Chen")
    bo = Contact.objects.get(name="Bo Chen")
    twilio_api.refusals[bo.phone] = refusal
    channel = run(channel)

    failed = Delivery.objects.get(channel=channel, contact=bo)
    assert failed.state == Delivery.State.FAILED
    assert words in failed.error
    assert twilio_api.to_numbers().count(bo.phone) == 1  # never sent again
    bo.refresh_from_db()
    assert not bo.opted_out_sms
    assert counters(channel) == ledger_counters(channel)


def test_a_429_tells_the_dispatcher_to_slow_down(twilio_api):
    twilio_api.refusals["+12025550199"] = TOO_MANY
    message = Outgoing(
        delivery_id=1,
        channel_id=1,
        contact_id=1,
        kind="sms",
        to="+12025550199",
        content={"text": "Hi", "sender": ""},
    )
    with pytest.raises(RateLimited, match="Too Many Requests"):
        provider_for("sms").send(message)
    twilio_api.refusals["+12025550199"] = SERVER_ERROR
    with pytest.raises(ProviderError) as error:
        provider_for("sms").send(message)
    assert not isinstance(error.value, RateLimited)


def test_a_send_that_hangs_past_the_timeout_fails(twilio_api, settings):
    settings.TWILIO_TIMEOUT = 0.3
    channel = sms_channel("Ana Lima")
    twilio_api.hangs[Contact.objects.get().phone] = 1.0
    channel = run(channel)

    delivery = Delivery.objects.get(channel=channel)
    assert delivery.state == Delivery.State.FAILED
    assert "did not answer within 0.3 s" in delivery.error
    assert len(twilio_api.received) == 1
    assert ACCOUNT_SID not in delivery.error
