"""Cancel a Ready channel's scheduled start, from its card (channels/schedule_views.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import ActivityEvent
from channels import scheduling
from channels.models import Channel
from tests.conftest import HTMX, url_for
from tests.factories import ChannelFactory, put_channel_in

url = url_for("channels:unschedule")


@pytest.fixture
def channel(db, manager):
    channel = ChannelFactory(name="Texts")
    scheduling.schedule(channel, at=timezone.now() + timedelta(hours=2), by=manager)
    return channel


def test_it_cancels_the_schedule(manager_client, channel, manager):
    response = manager_client.post(url(channel))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.scheduled_at is None and channel.scheduled_by is None
    assert channel.status == Channel.Status.READY
    assert ActivityEvent.objects.get(action="unschedule", channel=channel).actor == manager


def test_it_returns_the_live_partial_for_htmx(manager_client, channel):
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="live"')
    assert "The scheduled start of “Texts” is cancelled." in html
    assert "Starts at" not in html and "Cancel schedule" not in html
    assert "Schedule start" in html
    assert response["HX-Trigger"] == "herald:changed"


def test_it_is_harmless_to_repeat(manager_client, channel):
    manager_client.post(url(channel))
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    assert "This channel has no scheduled start." in response.content.decode()
    assert ActivityEvent.objects.filter(action="unschedule").count() == 1


def test_it_refuses_a_started_channel_with_409(manager_client, channel):
    put_channel_in(channel, Channel.Status.PAUSED)
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 409
    assert "Only a ready channel can be scheduled; this one is paused." in (
        response.content.decode()
    )


def test_get_is_not_allowed(manager_client, channel):
    assert manager_client.get(url(channel)).status_code == 405
    channel.refresh_from_db()
    assert channel.scheduled_at is not None


def test_a_viewer_gets_403(viewer_client, channel):
    assert viewer_client.post(url(channel)).status_code == 403
    channel.refresh_from_db()
    assert channel.scheduled_at is not None


def test_it_answers_404_for_an_unknown_channel(manager_client, db):
    assert manager_client.post(url(9999)).status_code == 404
