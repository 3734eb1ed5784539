"""POST channels:mark_converted — one delivery, from the contact page."""

import pytest
from django.urls import reverse

from campaigns import analytics
from campaigns.models import ActivityEvent
from channels.models import Channel, Delivery
from tests.conftest import HTMX, url_for
from tests.factories import ChannelFactory, build_ledger, put_channel_in

pytestmark = pytest.mark.django_db


def contacted_delivery(**kwargs) -> Delivery:
    channel = ChannelFactory(**kwargs)
    delivery, _ = build_ledger(
        channel, [(Delivery.State.DONE, "delivered"), (Delivery.State.DONE, "sent")]
    )
    put_channel_in(channel, Channel.Status.COMPLETED, audience_size=2)
    return delivery


url_of = url_for("channels:mark_converted")


def test_it_marks_a_delivery_converted_and_counts_it_once(manager_client, manager):
    delivery = contacted_delivery()
    response = manager_client.post(url_of(delivery))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "campaigns:analytics", args=[delivery.channel.campaign_id]
    )
    delivery.refresh_from_db()
    channel = Channel.objects.get(pk=delivery.channel_id)
    assert delivery.converted and delivery.converted_at is not None
    assert channel.converted == 1
    assert analytics.channel_figures(channel=channel).conversion_rate == 0.5
    event = ActivityEvent.objects.get(action="convert")
    assert event.actor == manager and event.channel == channel


def test_it_is_a_no_op_when_already_converted(manager_client):
    delivery = contacted_delivery()
    manager_client.post(url_of(delivery))
    response = manager_client.post(url_of(delivery), follow=True)
    assert "already marked converted" in response.content.decode()
    assert Channel.objects.get(pk=delivery.channel_id).converted == 1
    assert ActivityEvent.objects.filter(action="convert").count() == 1


def test_it_goes_back_to_a_safe_next_url(manager_client):
    delivery = contacted_delivery()
    response = manager_client.post(url_of(delivery), {"next": "/campaigns/?x=1"})
    assert response["Location"] == "/campaigns/?x=1"
    other = contacted_delivery()
    response = manager_client.post(url_of(other), {"next": "https://evil.example.com/"})
    assert response["Location"].startswith("/campaigns/")


def test_it_answers_htmx_with_the_button_include(manager_client):
    delivery = contacted_delivery()
    response = manager_client.post(url_of(delivery), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="delivery-{delivery.pk}-conversion"' in html and "Converted" in html
    # The contact page's "n converted" reloads itself on this event.
    assert response["HX-Trigger"] == "herald:converted"


def test_it_refuses_a_delivery_that_never_reached_the_contact(manager_client):
    channel = ChannelFactory()
    skipped, failed = build_ledger(
        channel, [(Delivery.State.SKIPPED, ""), (Delivery.State.FAILED, "failed")]
    )
    for delivery in (skipped, failed):
        response = manager_client.post(url_of(delivery))
        assert response.status_code == 409
        assert "Only a contacted delivery" in response.content.decode()
    assert Channel.objects.get(pk=channel.pk).converted == 0


def test_it_refuses_on_an_archived_campaign(manager_client):
    delivery = contacted_delivery()
    campaign = delivery.channel.campaign
    campaign.refresh_status()
    campaign.archive()
    response = manager_client.post(url_of(delivery))
    assert response.status_code == 409
    assert "archived" in response.content.decode()
    delivery.refresh_from_db()
    assert not delivery.converted


def test_it_refuses_viewers(viewer_client):
    delivery = contacted_delivery()
    assert viewer_client.post(url_of(delivery)).status_code == 403
    delivery.refresh_from_db()
    assert not delivery.converted


def test_it_refuses_get(manager_client):
    assert manager_client.get(url_of(contacted_delivery())).status_code == 405


def test_it_answers_404_for_a_missing_delivery(manager_client):
    assert manager_client.post("/channels/deliveries/999999/convert/").status_code == 404
