"""The command center, Analytics and the campaign list show one channel's figures alike."""

import re

import pytest
from django.urls import reverse

from channels.models import Channel, Delivery
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactListFactory,
    build_ledger,
    put_channel_in,
)

pytestmark = pytest.mark.django_db

DONE, FAILED, SKIPPED = Delivery.State.DONE, Delivery.State.FAILED, Delivery.State.SKIPPED
# Processed 4, contacted 2, converted 1: a 50.0% conversion rate.
LEDGER = [(DONE, "delivered", True), (DONE, "delivered"), (FAILED, "failed"), (SKIPPED, "")]


def one_channel_campaign(status: str, *, empty: bool = False) -> Channel:
    campaign = CampaignFactory(contact_list=ContactListFactory(size=3))
    channel = ChannelFactory(campaign=campaign)
    if status == Channel.Status.READY:
        return channel
    if not empty:
        build_ledger(channel, LEDGER)
    audience = 0 if empty else (4 if status == Channel.Status.COMPLETED else 10)
    put_channel_in(channel, status, audience_size=audience)
    campaign.refresh_status()
    return channel


def number(text: str) -> int:
    return int(text.replace(",", ""))


def command_center(client, channel: Channel) -> dict:
    html = client.get(reverse("campaigns:detail", args=[channel.campaign_id])).content.decode()
    if started := re.search(r"(\d[\d,]*)</strong> of (\d[\d,]*) processed · (\d+)%", html):
        processed, audience, percent = started.groups()
    else:
        audience = re.search(r"the list’s (\d[\d,]*) contacts", html).group(1)
        processed, percent = "0", "0"
    return {"processed": number(processed), "audience": number(audience), "percent": int(percent)}


def analytics_page(client, channel: Channel) -> dict:
    url = reverse("campaigns:analytics", args=[channel.campaign_id])
    html = client.get(url).content.decode()
    processed, audience, percent = re.search(
        r"(\d[\d,]*) of (\d[\d,]*) processed \((\d+)%\)", html
    ).groups()
    return {
        "processed": number(processed),
        "audience": number(audience),
        "percent": int(percent),
        "rate": re.search(r'data-figure="rate">([^<]*)<', html).group(1),
        "campaign rate": re.search(r'data-figure="campaign-rate">([^<]*)<', html).group(1),
    }


def campaign_list(client) -> dict:
    html = client.get(reverse("campaigns:list")).content.decode()
    return {
        "percent": int(re.search(r'<progress max="100" value="(\d+)"', html).group(1)),
        "rate": re.search(r'<td class="conversion">([^<]*)</td>', html).group(1),
    }


@pytest.mark.parametrize(
    ("status", "empty", "percent", "rate"),
    [
        (Channel.Status.READY, False, 0, "—"),
        (Channel.Status.RUNNING, False, 40, "50.0%"),
        (Channel.Status.PAUSED, False, 40, "50.0%"),
        (Channel.Status.STOPPED, False, 40, "50.0%"),
        (Channel.Status.COMPLETED, False, 100, "50.0%"),
        (Channel.Status.COMPLETED, True, 100, "—"),  # an empty run that completed
        (Channel.Status.STOPPED, True, 0, "—"),
    ],
)
def test_it_shows_the_same_figures_on_every_page(viewer_client, status, empty, percent, rate):
    channel = one_channel_campaign(status, empty=empty)

    card = command_center(viewer_client, channel)
    analytics = analytics_page(viewer_client, channel)
    row = campaign_list(viewer_client)

    assert card["percent"] == analytics["percent"] == row["percent"] == percent
    assert card["audience"] == analytics["audience"] == channel.audience
    assert card["processed"] == analytics["processed"] == channel.processed
    assert analytics["rate"] == analytics["campaign rate"] == row["rate"] == rate
