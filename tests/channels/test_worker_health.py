"""Worker health: a running channel no worker has picked up for longer than a lease says so,
on its card and in the campaign list, instead of promising a rate (issue 12, point 13)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import Channel, EngineLease
from channels.progress import load_live_channels
from channels.supervisor import SUPERVISOR
from tests.conftest import HTMX
from tests.factories import CampaignFactory, ChannelFactory, DeliveryFactory, put_channel_in

pytestmark = pytest.mark.django_db

NO_WORKER = "No worker is running — start one with <code>manage.py db_worker</code>"
LEASE = 60  # HERALD_ENGINE["lease_seconds"] in the test settings


@pytest.fixture(autouse=True)
def lease(settings):
    settings.HERALD_ENGINE = {**settings.HERALD_ENGINE, "lease_seconds": LEASE}


def running_channel(*, silent_for: float, **fields) -> Channel:
    """A running channel whose lanes last claimed `silent_for` seconds ago."""
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Spring texts", **fields)
    now = timezone.now()
    put_channel_in(
        channel,
        Channel.Status.RUNNING,
        started_at=now - timedelta(minutes=10),
        audience_size=100,
        processed=15,
        lane_heartbeats={"0": now.timestamp() - silent_for, "1": now.timestamp() - silent_for},
    )
    DeliveryFactory.create_batch(15, channel=channel, created_at=now - timedelta(seconds=10))
    return channel


def hold_supervisor_lease(*, for_seconds: float) -> None:
    expires = timezone.now() + timedelta(seconds=for_seconds)
    EngineLease.objects.update_or_create(
        name=SUPERVISOR, defaults={"token": "live", "expires_at": expires}
    )


def card_of(client, channel: Channel) -> str:
    url = reverse("campaigns:live", args=[channel.campaign_id])
    return client.get(url, headers=HTMX).content.decode()


def test_it_says_no_worker_runs_when_nothing_claimed_for_longer_than_a_lease(viewer_client):
    channel = running_channel(silent_for=LEASE + 5)
    html = card_of(viewer_client, channel)
    assert NO_WORKER in html
    assert "contacts/s" not in html and "left" not in html.split(NO_WORKER)[1][:200]


def test_it_shows_the_rate_while_lanes_claim(viewer_client):
    channel = running_channel(silent_for=2)
    html = card_of(viewer_client, channel)
    assert "No worker is running" not in html
    assert "0.5 contacts/s" in html


def test_it_trusts_a_live_supervisor_over_silent_lanes(viewer_client):
    # A channel whose lanes are done and that only waits for its provider's events.
    channel = running_channel(silent_for=LEASE * 3)
    hold_supervisor_lease(for_seconds=10)
    assert "No worker is running" not in card_of(viewer_client, channel)


def test_it_flags_again_once_the_supervisor_lease_ran_out(viewer_client):
    channel = running_channel(silent_for=LEASE * 3)
    hold_supervisor_lease(for_seconds=-1)
    assert NO_WORKER in card_of(viewer_client, channel)


def test_it_never_flags_a_channel_that_is_not_running():
    channel = running_channel(silent_for=LEASE * 3)
    channel.pause()
    [loaded] = load_live_channels(channel.campaign, now=timezone.now())
    assert loaded.worker_missing is False


def test_it_gives_a_just_started_channel_a_lease_to_be_picked_up():
    channel = ChannelFactory()
    channel.start()  # no worker ran: its lanes never claimed
    now = timezone.now()
    [loaded] = load_live_channels(channel.campaign, now=now)
    assert loaded.worker_missing is False
    [later] = load_live_channels(channel.campaign, now=now + timedelta(seconds=LEASE + 1))
    assert later.worker_missing is True


def test_it_flags_the_campaign_in_the_list(viewer_client):
    silent = running_channel(silent_for=LEASE + 5)
    served = running_channel(silent_for=1)
    CampaignFactory(name="Nothing running")
    html = viewer_client.get(reverse("campaigns:list")).content.decode()
    assert html.count("No worker running") == 1
    row = html.split(silent.campaign.name)[1].split("</tr>")[0]
    assert "No worker running" in row
    assert "No worker running" not in html.split(served.campaign.name)[1].split("</tr>")[0]
