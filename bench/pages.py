"""The figures of the pages everyone polls or opens: the command center's live partial, the
campaign list and a channel's deliveries table, on big data against small."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ContactList
from channels.deliveries import PAGE_SIZE
from channels.models import Channel, Delivery

from .data import add_channel, cycled_times, insert_deliveries, make_campaigns, seconds_before_now
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


# The deliveries table's filters timed deep in the ledger: none, and an outcome that one row
# in five has (its own index).
TABLE_OUTCOMES = ("delivered", "delivered", "sent", "undelivered", "failed")
TABLE_FILTERS = {"": {}, "?outcome=undelivered": {"outcome": "undelivered"}}


def page_cursor(channel: Channel, *, page: int, **filters) -> int:
    """The `after` cursor of page `page` (newest first): the last id of the page before.
    Set-up only, read once with an OFFSET, which the table itself never uses."""
    rows = Delivery.objects.filter(channel=channel, **filters).order_by("-pk")
    return rows.values_list("pk", flat=True)[(page - 1) * PAGE_SIZE - 1]


def deliveries_table_figures(
    contact_list: ContactList, *, deliveries: int, page: int = 1_000, repeats: int = 15
) -> list[dict]:
    """A channel of `deliveries` rows (contacts of `contact_list`): its deliveries table at
    page `page` against page 1, unfiltered and by outcome; the worse of the two."""
    client = signed_in_client("bench")
    campaign = Campaign.objects.create(name="bench deliveries", contact_list=contact_list)
    channel = add_channel(campaign, name="bench deliveries", max_per_second=10_000_000)
    first = first_member(contact_list)
    hours = cycled_times([timezone.now() - timedelta(minutes=m) for m in range(60)])
    count = insert_deliveries(
        channel, contacts=(first, first + deliveries - 1), at=hours, outcomes=TABLE_OUTCOMES
    )
    Channel.objects.filter(pk=channel.pk).update(
        status=Channel.Status.COMPLETED, audience_size=count
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
    url = reverse("channels:deliveries", args=[channel.pk])
    timings = {}
    for query, filters in TABLE_FILTERS.items():
        after = page_cursor(channel, page=page, **filters)
        deep_query = f"{query}&after={after}" if query else f"?after={after}"
        timings[query] = (
            time_page(client, url + query, repeats=repeats),
            time_page(client, url + deep_query, repeats=repeats),
        )
    worst = max(TABLE_FILTERS, key=lambda q: timings[q][1].median / timings[q][0].median)
    measured = "; ".join(
        f"{query or 'unfiltered'}: {deep.median * 1000:.1f} ms ({deep.queries} queries) vs "
        f"{top.median * 1000:.1f} ms ({top.queries})"
        for query, (top, deep) in timings.items()
    )
    top, deep = timings[worst]
    return [
        figure(
            f"deliveries table, page {page:,} of a {count:,}-row channel vs page 1",
            measured,
            deep.median / top.median,
            1.3,
            higher=False,
        )
    ]
