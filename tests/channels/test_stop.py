import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign
from channels.models import Channel
from tests.conftest import HTMX, url_for
from tests.factories import ChannelFactory


@pytest.fixture
def channel(manager):
    channel = ChannelFactory(name="Texts")
    channel.start(by=manager)
    return channel


url = url_for("channels:stop")


def test_it_asks_for_confirmation_on_get(manager_client, channel):
    response = manager_client.get(url(channel))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stopping is permanent." in html
    assert f'<form method="post" action="{url(channel)}"' in html
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING


def test_it_stops_the_channel(manager_client, channel):
    response = manager_client.post(url(channel))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.status == Channel.Status.STOPPED
    assert channel.finished_at is not None
    channel.campaign.refresh_from_db()
    assert channel.campaign.status == Campaign.Status.COMPLETED


def test_it_stops_a_paused_channel(manager_client, channel, manager):
    channel.pause(by=manager)
    manager_client.post(url(channel))
    channel.refresh_from_db()
    assert channel.status == Channel.Status.STOPPED


def test_it_returns_the_card_without_buttons(manager_client, channel):
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert ">Stopped<" in html
    assert "<button" not in html.split('id="channel-')[1].split("</article>")[0]


def test_the_card_button_confirms_before_stopping(manager_client, channel):
    html = manager_client.get(reverse("campaigns:detail", args=[channel.campaign_id])).content
    html = html.decode()
    assert f'<form method="get" action="{url(channel)}" hx-post="{url(channel)}"' in html
    assert 'hx-confirm="Stop “Texts”? Stopping is permanent' in html


def test_it_is_harmless_to_repeat(manager_client, channel):
    manager_client.post(url(channel))
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    assert "This channel is already stopped." in response.content.decode()
    assert ActivityEvent.objects.filter(action="stop").count() == 1


def test_it_refuses_a_ready_channel_with_409(manager_client):
    ready = ChannelFactory()
    response = manager_client.post(url(ready), headers=HTMX)
    assert response.status_code == 409
    assert "A ready channel cannot be stopped." in response.content.decode()
    ready.refresh_from_db()
    assert ready.status == Channel.Status.READY


def test_it_refuses_other_methods(manager_client, channel):
    assert manager_client.put(url(channel)).status_code == 405


def test_it_forbids_a_viewer(viewer_client, channel):
    assert viewer_client.get(url(channel)).status_code == 403
    assert viewer_client.post(url(channel)).status_code == 403
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING


def test_it_requires_sign_in(client, channel):
    response = client.post(url(channel))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_channel(manager_client):
    assert manager_client.post(reverse("channels:stop", args=[999999])).status_code == 404
    assert manager_client.get(reverse("channels:stop", args=[999999])).status_code == 404
