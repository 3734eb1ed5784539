import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import Channel
from tests.conftest import HTMX, url_for
from tests.factories import CampaignFactory, ChannelFactory, DeliveryFactory


@pytest.fixture
def campaign(manager):
    campaign = CampaignFactory()
    channel = ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE, name="Calls")
    channel.start(by=manager)
    return campaign


live_url = url_for("campaigns:live")


def test_it_returns_the_live_partial_while_a_channel_runs(manager_client, campaign):
    response = manager_client.get(live_url(campaign), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="live"')
    assert "<html" not in html
    assert 'hx-trigger="every 2s, visibilitychange from:document" data-poll-hidden="15"' in html
    assert "Running" in html


def test_it_polls_slowly_when_nothing_runs(manager_client, campaign, manager):
    campaign.channels.get().pause(by=manager)
    response = manager_client.get(live_url(campaign) + "?was=running", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    # The final state is swapped in; the region keeps asking, every 10 s, so that it sees
    # another manager's Start.
    assert "Paused" in html
    assert 'hx-trigger="every 10s, visibilitychange from:document" data-poll-hidden="60"' in html
    assert "?was=idle" in html
    assert response["HX-Trigger"] == "herald:changed"


def test_it_reloads_the_activity_only_when_running_starts_or_ends(manager_client, campaign):
    response = manager_client.get(live_url(campaign) + "?was=running", headers=HTMX)
    assert "HX-Trigger" not in response
    response = manager_client.get(live_url(campaign) + "?was=idle", headers=HTMX)
    assert response["HX-Trigger"] == "herald:changed"
    assert 'hx-trigger="every 2s' in response.content.decode()


def test_it_keeps_polling_while_contacts_are_in_flight(manager_client, campaign, manager):
    channel = campaign.channels.get()
    channel.pause(by=manager)
    Channel.objects.filter(pk=channel.pk).update(in_flight=2)
    response = manager_client.get(live_url(campaign), headers=HTMX)
    assert response.status_code == 200


def test_it_shows_rate_and_time_left_while_running(manager_client, campaign):
    channel = campaign.channels.get()
    DeliveryFactory.create_batch(6, channel=channel, outcome="answered")
    Channel.objects.filter(pk=channel.pk).update(
        audience_size=1000, processed=6, outcome_counts={"answered": 6}
    )
    response = manager_client.get(live_url(campaign), headers=HTMX)
    html = response.content.decode()
    assert "contacts/s" in html
    assert "left" in html
    assert "6</strong> of 1,000 processed" in html


def test_it_is_readable_by_a_viewer(viewer_client, campaign):
    response = viewer_client.get(live_url(campaign), headers=HTMX)
    assert response.status_code == 200
    assert "<button" not in response.content.decode()


def test_it_requires_sign_in(client, campaign):
    response = client.get(live_url(campaign), headers=HTMX)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_campaign(manager_client):
    response = manager_client.get(reverse("campaigns:live", args=[999999]), headers=HTMX)
    assert response.status_code == 404


def count_queries(client, campaign) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(live_url(campaign), headers=HTMX)
    assert response.status_code == 200
    return len(queries)


def test_it_uses_a_fixed_number_of_queries_however_many_channels(manager_client, manager):
    small = CampaignFactory()
    ChannelFactory(campaign=small, kind=Channel.Kind.AI_VOICE).start(by=manager)
    large = CampaignFactory()
    for index in range(20):
        channel = ChannelFactory(campaign=large, kind=list(Channel.Kind)[index % 3])
        if index % 2:
            channel.start(by=manager)
            DeliveryFactory.create_batch(3, channel=channel)
    count_queries(manager_client, small)  # warm the session and permission caches alike
    few, many = count_queries(manager_client, small), count_queries(manager_client, large)
    assert few == many
    # The whole request, session, user and permissions included.
    assert many <= 6


def count_live_queries(client, campaign) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(live_url(campaign), headers=HTMX).status_code == 200
    return len(queries)


def test_it_reads_a_fixed_number_of_queries_however_many_channels(manager_client, manager):
    campaign = CampaignFactory()
    ChannelFactory(campaign=campaign).start(by=manager)
    count_live_queries(manager_client, campaign)
    few = count_live_queries(manager_client, campaign)
    for kind in [*Channel.Kind, *Channel.Kind]:
        channel = ChannelFactory(campaign=campaign, kind=kind)
        channel.start(by=manager)
        DeliveryFactory.create_batch(3, channel=channel)
    ChannelFactory(campaign=campaign)  # and one still Ready
    assert campaign.channels.count() == 8
    assert count_live_queries(manager_client, campaign) == few
