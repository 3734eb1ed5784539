"""A contact's page: details and history across campaigns and channels."""

import pytest
from django.urls import reverse

from channels.models import Channel
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
    assert "no_answer" in html
    assert response.context["page"].paginator.count == 2
    assert response.context["converted"] == 1


def test_it_is_404_for_a_missing_contact(viewer_client):
    assert viewer_client.get(reverse("contacts:contact", args=[999])).status_code == 404


def test_it_needs_a_login(client):
    contact = ContactFactory()
    response = client.get(contact.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
