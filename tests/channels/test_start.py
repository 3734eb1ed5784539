import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign
from channels.models import Channel
from tests.conftest import HTMX, url_for
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory


@pytest.fixture
def channel(db):
    campaign = CampaignFactory(contact_list=ContactListFactory(size=3))
    return ChannelFactory(campaign=campaign, name="Calls", kind=Channel.Kind.AI_VOICE)


url = url_for("channels:start")


def test_it_starts_the_channel(manager_client, channel, manager):
    response = manager_client.post(url(channel))
    assert response.status_code == 302
    assert response.url == reverse("campaigns:detail", args=[channel.campaign_id])
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING
    assert channel.audience_size == 3
    channel.campaign.refresh_from_db()
    assert channel.campaign.status == Campaign.Status.ACTIVE
    event = ActivityEvent.objects.get(action="start")
    assert event.actor == manager
    assert (event.from_status, event.to_status) == ("ready", "running")


def test_it_wakes_the_engine_after_commit(
    manager_client, channel, monkeypatch, django_capture_on_commit_callbacks
):
    woken = []
    monkeypatch.setattr("channels.dispatch.wake", lambda *, channel_id: woken.append(channel_id))
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(url(channel))
    assert woken == [channel.pk]


def test_it_returns_the_live_partial_for_htmx(manager_client, channel):
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="live"')
    assert ">Running<" in html
    assert ">Pause<" in html and ">Stop<" in html
    assert ">Start<" not in html
    assert "“Calls” started." in html
    assert response["HX-Trigger"] == "herald:changed"


def test_it_leaves_other_channels_ready(manager_client, channel):
    other = ChannelFactory(campaign=channel.campaign, name="Texts")
    manager_client.post(url(channel))
    other.refresh_from_db()
    assert other.status == Channel.Status.READY


def test_it_is_harmless_to_repeat(manager_client, channel):
    manager_client.post(url(channel))
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    assert "This channel is already running." in response.content.decode()
    assert ActivityEvent.objects.filter(action="start").count() == 1


def test_it_refuses_a_paused_channel_with_409(manager_client, channel, manager):
    channel.start(by=manager)
    channel.pause(by=manager)
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 409
    assert "A paused channel cannot be started." in response.content.decode()
    channel.refresh_from_db()
    assert channel.status == Channel.Status.PAUSED


def test_it_shows_the_refusal_on_the_page_without_htmx(manager_client, channel, manager):
    channel.start(by=manager)
    channel.stop(by=manager)
    response = manager_client.post(url(channel))
    assert response.status_code == 409
    html = response.content.decode()
    assert "<html" in html
    assert 'role="alert">This channel was stopped; a stopped run cannot be changed.' in html


def test_it_refuses_a_channel_of_an_archived_campaign(manager_client, manager):
    campaign = CampaignFactory()
    finished = ChannelFactory(campaign=campaign)
    finished.start(by=manager)
    finished.stop(by=manager)
    campaign.archive(by=manager)
    # A Ready channel cannot be added to an archived campaign; write one past that check.
    (ready,) = Channel.objects.bulk_create([ChannelFactory.build(campaign=campaign)])
    response = manager_client.post(url(ready), headers=HTMX)
    assert response.status_code == 409
    assert "This campaign is archived; unarchive it first." in response.content.decode()


def test_it_refuses_get(manager_client, channel):
    assert manager_client.get(url(channel)).status_code == 405


def test_it_forbids_a_viewer(viewer_client, channel):
    assert viewer_client.post(url(channel)).status_code == 403
    channel.refresh_from_db()
    assert channel.status == Channel.Status.READY


def test_it_requires_sign_in(client, channel):
    response = client.post(url(channel))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_channel(manager_client):
    assert manager_client.post(reverse("channels:start", args=[999999])).status_code == 404
