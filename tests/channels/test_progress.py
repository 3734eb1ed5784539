"""The live figures of a channel card: rate, time left, overall progress."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.analytics import campaign_figures
from channels.models import Channel
from channels.progress import load_live_channels
from channels.templatetags.herald_channels import time_left
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory, DeliveryFactory


def test_it_computes_the_rate_over_the_last_30_seconds(manager):
    channel = ChannelFactory()
    channel.start(by=manager)
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(
        started_at=now - timedelta(minutes=5),
        audience_size=100,
        processed=15,
        lane_heartbeats={"0": now.timestamp() - 1},  # a worker claimed a second ago
    )
    DeliveryFactory.create_batch(15, channel=channel, created_at=now - timedelta(seconds=10))
    DeliveryFactory.create_batch(5, channel=channel, created_at=now - timedelta(seconds=45))
    [loaded] = load_live_channels(channel.campaign, now=now)
    assert loaded.rate == 0.5
    assert loaded.seconds_left == 170


def test_it_takes_the_rate_over_the_newest_deliveries_when_more_came(manager, monkeypatch):
    monkeypatch.setattr("channels.progress.RATE_SAMPLE", 5)
    channel = ChannelFactory()
    channel.start(by=manager)
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(
        started_at=now - timedelta(minutes=5),
        lane_heartbeats={"0": now.timestamp() - 1},  # a worker claimed a second ago
    )
    DeliveryFactory.create_batch(5, channel=channel, created_at=now - timedelta(seconds=2))
    DeliveryFactory.create_batch(10, channel=channel, created_at=now - timedelta(seconds=20))
    [loaded] = load_live_channels(channel.campaign, now=now)
    # Only the 5 newest are read: 5 in the last 2 s, not 15 in the last 30 s.
    assert loaded.recent_deliveries == 5
    assert loaded.rate == 2.5


def test_it_uses_the_time_since_start_when_shorter(manager):
    channel = ChannelFactory()
    channel.start(by=manager)
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(started_at=now - timedelta(seconds=4))
    DeliveryFactory.create_batch(8, channel=channel, created_at=now - timedelta(seconds=1))
    [loaded] = load_live_channels(channel.campaign, now=now)
    assert loaded.rate == 2.0


def test_it_has_no_rate_unless_running(manager):
    channel = ChannelFactory()
    channel.start(by=manager)
    DeliveryFactory(channel=channel)
    channel.pause(by=manager)
    [loaded] = load_live_channels(channel.campaign, now=timezone.now())
    assert loaded.rate is None
    assert loaded.seconds_left is None


def test_it_loads_every_channel_in_one_query(manager):
    campaign = CampaignFactory()
    for _ in range(5):
        channel = ChannelFactory(campaign=campaign)
        channel.start(by=manager)
        DeliveryFactory.create_batch(2, channel=channel)
    with CaptureQueriesContext(connection) as queries:
        channels = load_live_channels(campaign, now=timezone.now())
        assert campaign.status_breakdown() == "5 running"
    assert len(channels) == 5
    assert len(queries) == 1


def test_it_counts_channels_not_started_as_the_list(manager):
    campaign = CampaignFactory(contact_list=ContactListFactory(size=10))
    started = ChannelFactory(campaign=campaign)
    started.start(by=manager)
    Channel.objects.filter(pk=started.pk).update(processed=10)
    ChannelFactory(campaign=campaign)
    figures = campaign_figures(campaign=campaign)
    assert (figures.processed, figures.audience, figures.progress_percent) == (10, 20, 50)


def test_it_says_time_left_in_words():
    assert time_left(None) == ""
    assert time_left(20) == "less than a minute left"
    assert time_left(600) == "about 10 min left"
    assert time_left(3 * 3600 + 5 * 60) == "about 3 h 05 min left"


def test_it_keeps_the_channels_in_the_order_they_were_added(manager):
    campaign = CampaignFactory()
    names = [f"Channel {letter}" for letter in "CAB"]
    for name in names:
        ChannelFactory(campaign=campaign, name=name)
    channels = load_live_channels(campaign, now=timezone.now())
    assert [channel.name for channel in channels] == names
