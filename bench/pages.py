"""The figures of the pages everyone polls or opens: the command center's live partial and
the campaign list, on big data against small."""

from __future__ import annotations

from django.db import connection
from django.urls import reverse

from campaigns.models import Campaign, ContactList
from channels.models import Channel

from .data import add_channel, insert_deliveries, make_campaigns, seconds_before_now
from .report import figure
from .timing import HTMX, signed_in_client, time_page

LIVE_CHANNELS = 20


def running_channel(campaign: Campaign, *, name: str, contacts: tuple[int, int], spread: int):
    """A Running channel whose deliveries were created over the last `spread` seconds."""
    channel = add_channel(campaign, name=name, max_per_second=10_000_000)
    count = insert_deliveries(channel, contacts=contacts, at=seconds_before_now(spread))
    # Bench set-up only: the channel runs without a worker, so say so directly.
    Channel.objects.filter(pk=channel.pk).update(
        status=Channel.Status.RUNNING, audience_size=count
    )
    return channel


def first_member(contact_list: ContactList) -> int:
    return contact_list.memberships.order_by("contact_id").first().contact_id


def live_partial_figures(big_list, small_list, *, deliveries: int) -> list[dict]:
    """The polled partial: 20 running channels and 1,000,000 deliveries vs 1 and 10."""
    client = signed_in_client("bench")
    big = Campaign.objects.create(name="bench live big", contact_list=big_list)
    per_channel = deliveries // LIVE_CHANNELS
    for i in range(LIVE_CHANNELS):
        first = first_member(big_list) + i * per_channel
        contacts = (first, first + per_channel - 1)
        running_channel(big, name=f"bench {i}", contacts=contacts, spread=3600)
    small = Campaign.objects.create(name="bench live small", contact_list=small_list)
    first = first_member(small_list)
    running_channel(small, name="bench", contacts=(first, first + 9), spread=60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    big_page = time_page(client, reverse("campaigns:live", args=[big.pk]), headers=HTMX)
    small_page = time_page(client, reverse("campaigns:live", args=[small.pk]), headers=HTMX)
    return [
        figure(
            f"live partial, 20 channels and {deliveries:,} deliveries",
            f"{big_page.median * 1000:.1f} ms, {big_page.queries} queries vs "
            f"{small_page.median * 1000:.1f} ms, {small_page.queries} queries for 1 channel "
            "and 10 deliveries",
            big_page.median / small_page.median,
            2.0,
            higher=False,
        )
    ]


def campaign_list_figures(contact_list: ContactList) -> list[dict]:
    """The campaign list under each filter: 10,000 campaigns vs 10."""
    client = signed_in_client("bench")
    Campaign.objects.all().delete()
    filters = ["", "?status=draft", "?status=active", "?status=completed", "?status=archived"]
    filters.append("?q=campaign+1")  # matches campaigns in every status but archived
    url = reverse("campaigns:list")
    make_campaigns(contact_list, 10)
    small = {query: time_page(client, url + query) for query in filters}
    make_campaigns(contact_list, 9_990)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    big = {query: time_page(client, url + query) for query in filters}
    worst = max(filters, key=lambda query: big[query].median / small[query].median)
    same_queries = all(big[q].queries == small[q].queries for q in filters)
    return [
        figure(
            "campaign list, 10,000 campaigns (worst filter)",
            f"{worst or 'all'}: {big[worst].median * 1000:.1f} ms vs "
            f"{small[worst].median * 1000:.1f} ms for 10; queries {big[worst].queries} vs "
            f"{small[worst].queries} ({'the same' if same_queries else 'NOT the same'} "
            "under every filter)",
            big[worst].median / small[worst].median,
            2.0,
            higher=False,
        )
    ]
