import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent
from channels.models import Channel
from tests.conftest import HTMX, url_for
from tests.factories import ChannelFactory


@pytest.fixture
def channel(manager):
    channel = ChannelFactory(name="Texts")
    channel.start(by=manager)
    return channel


url = url_for("channels:pause")


def test_it_pauses_the_channel(manager_client, channel):
    response = manager_client.post(url(channel))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.status == Channel.Status.PAUSED
    assert channel.paused_at is not None
    assert ActivityEvent.objects.filter(action="pause", channel=channel).count() == 1


def test_it_returns_the_card_with_resume_and_stop(manager_client, channel):
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert ">Paused<" in html
    assert ">Resume<" in html and ">Stop<" in html
    assert ">Pause<" not in html


def test_it_is_harmless_to_repeat(manager_client, channel):
    manager_client.post(url(channel))
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    assert "This channel is already paused." in response.content.decode()
    channel.refresh_from_db()
    assert channel.status == Channel.Status.PAUSED
    assert ActivityEvent.objects.filter(action="pause").count() == 1


def test_it_refuses_a_ready_channel_with_409(manager_client):
    ready = ChannelFactory()
    response = manager_client.post(url(ready), headers=HTMX)
    assert response.status_code == 409
    assert "A ready channel cannot be paused." in response.content.decode()
    ready.refresh_from_db()
    assert ready.status == Channel.Status.READY


def test_it_refuses_get(manager_client, channel):
    assert manager_client.get(url(channel)).status_code == 405


def test_it_forbids_a_viewer(viewer_client, channel):
    assert viewer_client.post(url(channel)).status_code == 403
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING


def test_it_requires_sign_in(client, channel):
    response = client.post(url(channel))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_channel(manager_client):
    assert manager_client.post(reverse("channels:pause", args=[999999])).status_code == 404
