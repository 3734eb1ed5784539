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
    channel.pause(by=manager)
    return channel


url = url_for("channels:resume")


def test_it_resumes_the_channel(manager_client, channel):
    response = manager_client.post(url(channel))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING
    assert channel.paused_at is None


def test_it_wakes_the_engine(
    manager_client, channel, monkeypatch, django_capture_on_commit_callbacks
):
    woken = []
    monkeypatch.setattr("channels.dispatch.wake", lambda *, channel_id: woken.append(channel_id))
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(url(channel))
    assert woken == [channel.pk]


def test_it_returns_the_card_polling_again(manager_client, channel):
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert ">Running<" in html
    assert 'hx-trigger="every 2s' in html


def test_it_is_harmless_to_repeat(manager_client, channel):
    manager_client.post(url(channel))
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    assert "This channel is already running." in response.content.decode()
    assert ActivityEvent.objects.filter(action="resume").count() == 1


def test_it_refuses_a_stopped_channel_with_409(manager_client, channel, manager):
    channel.stop(by=manager)
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 409
    assert "a stopped run cannot be changed" in response.content.decode()
    channel.refresh_from_db()
    assert channel.status == Channel.Status.STOPPED


def test_it_refuses_get(manager_client, channel):
    assert manager_client.get(url(channel)).status_code == 405


def test_it_forbids_a_viewer(viewer_client, channel):
    assert viewer_client.post(url(channel)).status_code == 403
    channel.refresh_from_db()
    assert channel.status == Channel.Status.PAUSED


def test_it_requires_sign_in(client, channel):
    response = client.post(url(channel))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_channel(manager_client):
    assert manager_client.post(reverse("channels:resume", args=[999999])).status_code == 404
