import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign
from channels.models import Channel
from tests.conftest import url_for
from tests.factories import CampaignFactory, ChannelFactory


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Texts")


url = url_for("channels:remove")


def test_it_asks_for_confirmation_on_get(manager_client, channel):
    response = manager_client.get(url(channel))
    assert response.status_code == 200
    assert ">Remove channel</button>" in response.content.decode()
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_it_removes_a_ready_channel(manager_client, channel):
    response = manager_client.post(url(channel))
    assert response.status_code == 302
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert ActivityEvent.objects.filter(action="remove", campaign=channel.campaign).exists()


def test_it_recomputes_the_campaign_status(manager_client, manager):
    campaign = CampaignFactory()
    done = ChannelFactory(campaign=campaign)
    done.start(by=manager)
    done.stop(by=manager)
    waiting = ChannelFactory(campaign=campaign)
    campaign.refresh_status()
    assert campaign.status == Campaign.Status.ACTIVE
    manager_client.post(url(waiting))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED


def test_it_refuses_a_started_channel_with_409(manager_client, channel, manager):
    channel.start(by=manager)
    response = manager_client.post(url(channel))
    assert response.status_code == 409
    assert "Only a ready channel can be removed." in response.content.decode()
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_it_is_harmless_to_repeat(manager_client, channel):
    manager_client.post(url(channel))
    assert manager_client.post(url(channel)).status_code == 404


def test_it_forbids_a_viewer(viewer_client, channel):
    assert viewer_client.post(url(channel)).status_code == 403
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_it_requires_sign_in(client, channel):
    assert client.post(url(channel)).url.startswith(reverse("login"))


def test_it_refuses_other_methods(manager_client, channel):
    assert manager_client.put(url(channel)).status_code == 405
