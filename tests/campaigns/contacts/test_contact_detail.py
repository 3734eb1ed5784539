"""A contact's page: details and history across campaigns and channels."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import ConsentChange
from channels.models import Channel, ProviderEvent
from tests.factories import ChannelFactory, ContactFactory, DeliveryFactory

pytestmark = pytest.mark.django_db


def test_it_shows_the_history_across_campaigns_and_channels(viewer_client):
    contact = ContactFactory(name="Ann")
    sms = ChannelFactory(kind=Channel.Kind.SMS, name="Spring SMS")
    voice = ChannelFactory(kind=Channel.Kind.AI_VOICE, name="Autumn calls")
    DeliveryFactory(contact=contact, channel=sms, outcome="delivered", converted=True)
    DeliveryFactory(contact=contact, channel=voice, outcome="no_answer")
    DeliveryFactory(channel=voice)  # someone else's
    response = viewer_client.get(contact.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Spring SMS" in html and "Autumn calls" in html
    assert sms.campaign.name in html and voice.campaign.name in html
    assert "<td>No answer</td>" in html and "no_answer" not in html
    assert response.context["page"].paginator.count == 2
    # Reloaded when a delivery is marked converted on the page (no stale "0 converted").
    summary = html.split('id="history-summary"')[1].split("</p>")[0]
    assert 'hx-trigger="herald:converted from:body"' in summary
    assert "1 converted" in summary
    assert response.context["converted"] == 1


def test_it_is_404_for_a_missing_contact(viewer_client):
    assert viewer_client.get(reverse("contacts:contact", args=[999])).status_code == 404


def test_it_needs_a_login(client):
    contact = ContactFactory()
    response = client.get(contact.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_shows_what_was_sent_and_what_the_call_gave(viewer_client):
    contact = ContactFactory(name="Ann Lee")
    voice = ChannelFactory(kind=Channel.Kind.AI_VOICE, voice_script="Hello {first_name}!")
    details = {
        "duration": 125.4,
        "endedReason": "customer-ended-call",
        "summary": "Ann will <b>donate</b>.",
        "transcript": [{"role": "bot", "message": "Hello"}, {"role": "user", "message": "Hi"}],
        "recording_url": "https://recordings.example.org/1.mp3",
    }
    delivery = DeliveryFactory(contact=contact, channel=voice, outcome="answered", details=details)
    ProviderEvent.objects.create(
        provider="vapi", event_id="e1", delivery=delivery, status="ended", result="applied"
    )
    html = viewer_client.get(contact.get_absolute_url()).content.decode()
    assert "Hello Ann!" in html
    assert "2 min 5 s" in html and "customer-ended-call" in html
    assert "Ann will &lt;b&gt;donate&lt;/b&gt;." in html
    assert "<summary>Transcript</summary><p>bot: Hello<br>user: Hi</p>" in html
    assert '<a href="https://recordings.example.org/1.mp3" rel="noopener noreferrer"' in html
    assert "vapi: ended (Applied)" in html
    assert "1 provider event</summary>" in html


def test_it_shows_the_rendered_text_and_email(viewer_client):
    contact = ContactFactory(name="Bob Ray", attributes={"city": "Oslo"})
    sms = ChannelFactory(kind=Channel.Kind.SMS, sms_template="Hi {first_name} in {city}")
    email = ChannelFactory(kind=Channel.Kind.EMAIL, email_subject="News, {last_name}")
    DeliveryFactory(contact=contact, channel=sms)
    DeliveryFactory(contact=contact, channel=email)
    html = viewer_client.get(contact.get_absolute_url()).content.decode()
    assert "Hi Bob in Oslo" in html
    assert "News, Ray" in html
    assert html.count("No event from the provider.") == 2


def test_it_never_links_a_recording_that_is_not_http(viewer_client):
    contact = ContactFactory()
    voice = ChannelFactory(kind=Channel.Kind.AI_VOICE)
    details = {"recording_url": "javascript:alert(1)", "summary": "x"}
    DeliveryFactory(contact=contact, channel=voice, details=details)
    html = viewer_client.get(contact.get_absolute_url()).content.decode()
    assert "javascript:" not in html
    assert "Listen to the recording" not in html


def test_it_shows_the_consent_history(viewer_client, manager):
    contact = ContactFactory()
    contact.set_consent("sms", opted_out=True, source=ConsentChange.Source.INBOUND_SMS)
    contact.set_consent("email", opted_out=True, source=ConsentChange.Source.MANAGER, by=manager)
    contact.set_consent("email", opted_out=False, source=ConsentChange.Source.MANAGER, by=manager)
    page = viewer_client.get(contact.get_absolute_url()).content.decode()
    html = page[page.index("Consent history") :]
    assert "Opted out of SMS Blast · Replied by SMS" in html
    assert f"Opted in to Email · Changed on the contact page ({manager.username})" in html
    assert html.index("Opted in to Email") < html.index("Opted out of SMS")


def test_it_says_when_no_consent_was_recorded(viewer_client):
    html = viewer_client.get(ContactFactory().get_absolute_url()).content.decode()
    assert "No opt-out or opt-in recorded." in html


def test_it_reads_a_fixed_number_of_queries_however_many_deliveries(viewer_client):
    contact = ContactFactory()

    def deliver(count: int) -> None:
        for _ in range(count):
            delivery = DeliveryFactory(contact=contact, channel=ChannelFactory())
            ProviderEvent.objects.create(
                provider="sim", event_id=f"e{delivery.pk}", delivery=delivery, status="sent"
            )
        contact.set_consent("sms", opted_out=count % 2 == 1, source="manager")

    deliver(1)
    viewer_client.get(contact.get_absolute_url())
    with CaptureQueriesContext(connection) as one:
        viewer_client.get(contact.get_absolute_url())
    deliver(6)
    with CaptureQueriesContext(connection) as seven:
        response = viewer_client.get(contact.get_absolute_url())
    assert response.content.decode().count("1 provider event</summary>") == 7
    assert len(seven) == len(one)
