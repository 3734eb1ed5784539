"""The figures of the pages everyone polls or opens: the command center's live partial, the
campaign list and a channel's deliveries table, on big data against small."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ContactList
from campaigns.views import PAGE_SIZE as LIST_PAGE_SIZE
from channels.deliveries import PAGE_SIZE as DELIVERIES_PAGE_SIZE
from channels.models import Channel, Delivery
from channels.progress import RATE_WINDOW

from .data import add_channel, cycled_times, insert_deliveries, make_campaigns, seconds_before_now
from .report import figure
from .timing import HTMX, PageTiming, pooled, signed_in_client, time_page, time_pages

LIVE_CHANNELS = 20
HOUR = 3600
WINDOW = int(RATE_WINDOW.total_seconds())
SMALL_PER_CHANNEL = 10
REPEATS = 25
LIST_ROUNDS = 3


def running_channel(campaign: Campaign, *, name: str, contacts: tuple[int, int]) -> Channel:
    """A Running channel, started an hour ago, whose deliveries were created over that hour
    but its last RATE_WINDOW (`add_recent` fills that in just before the timing)."""
    channel = add_channel(campaign, name=name, max_per_second=10_000_000)
    at = seconds_before_now(HOUR - WINDOW, after=WINDOW)
    count = insert_deliveries(channel, contacts=contacts, at=at)
    # Bench set-up only: the channel runs without a worker, so say so directly.
    Channel.objects.filter(pk=channel.pk).update(
        status=Channel.Status.RUNNING,
        audience_size=count * 2,  # half-way through its audience
        started_at=timezone.now() - timedelta(seconds=HOUR),
    )
    return channel


def add_recent(channel: Channel, *, contacts: tuple[int, int]) -> None:
    """Deliveries created over the last RATE_WINDOW, the ones the card's rate counts."""
    if contacts[1] >= contacts[0]:
        insert_deliveries(channel, contacts=contacts, at=seconds_before_now(WINDOW))


def first_member(contact_list: ContactList) -> int:
    return contact_list.memberships.order_by("contact_id").first().contact_id


def live_campaign(name: str, contact_list: ContactList, *, per_channel: int):
    """A campaign of LIVE_CHANNELS running channels, each with `per_channel` deliveries at an
    even pace over the last hour (channel i reaches the i-th slice of the list); returns it
    and a function that adds their last RATE_WINDOW of deliveries, to call just before the
    timing so that the window is full when measured."""
    campaign = Campaign.objects.create(name=name, contact_list=contact_list)
    first = first_member(contact_list)
    stride = per_channel if contact_list.size >= per_channel * LIVE_CHANNELS else 0
    recent = per_channel * WINDOW // HOUR
    later = []
    for i in range(LIVE_CHANNELS):
        start, last = first + i * stride, first + i * stride + per_channel - 1
        channel = running_channel(campaign, name=f"bench {i}", contacts=(start, last - recent))
        later.append((channel, (last - recent + 1, last)))

    def fill_rate_window() -> None:
        for channel, contacts in later:
            add_recent(channel, contacts=contacts)

    return campaign, fill_rate_window


def live_partial_figures(big_list, small_list, *, deliveries: int) -> list[dict]:
    """The polled partial: 20 running channels with 1,000,000 deliveries in all vs the same
    20 channels with 10 deliveries each (the same cards, so only the ledger's size differs)."""
    client = signed_in_client("bench")
    per_channel = deliveries // LIVE_CHANNELS
    big, fill_big = live_campaign("bench live big", big_list, per_channel=per_channel)
    small, fill_small = live_campaign(
        "bench live small", small_list, per_channel=SMALL_PER_CHANNEL
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    fill_big()
    fill_small()
    urls = [reverse("campaigns:live", args=[campaign.pk]) for campaign in (big, small)]
    big_page, small_page = time_pages(client, urls, repeats=REPEATS, headers=HTMX)
    return [
        figure(
            f"live partial, 20 channels and {deliveries:,} deliveries",
            f"{big_page.median * 1000:.1f} ms, {big_page.queries} queries vs "
            f"{small_page.median * 1000:.1f} ms, {small_page.queries} queries for the same 20 "
            f"channels with {SMALL_PER_CHANNEL} deliveries each",
            big_page.median / small_page.median,
            1.2,
            higher=False,
        )
    ]


# Every filter of the list; "campaign 1" matches campaigns in every status but archived.
LIST_FILTERS = {
    "": ("draft", "active", "completed"),
    "?status=draft": ("draft",),
    "?status=active": ("active",),
    "?status=completed": ("completed",),
    "?status=archived": ("archived",),
    "?q=campaign+1": ("draft", "active", "completed"),
}


def campaign_list_figures(contact_list: ContactList) -> list[dict]:
    """The campaign list under each filter: 10,000 campaigns vs a list just big enough to fill
    the same page (as many rows, so only the table's size differs). The two cannot be in the
    database at once, so they take turns, LIST_ROUNDS times each: a burst of load from
    elsewhere then falls on both sides."""
    client = signed_in_client("bench")
    url = reverse("campaigns:list")
    small: dict[str, list[PageTiming]] = {query: [] for query in LIST_FILTERS}
    big: dict[str, list[PageTiming]] = {query: [] for query in LIST_FILTERS}
    for _ in range(LIST_ROUNDS):
        for query, statuses in LIST_FILTERS.items():
            Campaign.objects.all().delete()
            # Numbered from 1000: every name contains "campaign 1", as the search asks.
            make_campaigns(contact_list, LIST_PAGE_SIZE, statuses=statuses, first=1000)
            small[query].append(time_page(client, url + query, repeats=REPEATS))
        Campaign.objects.all().delete()
        make_campaigns(contact_list, 10_000)
        with connection.cursor() as cursor:
            # Autovacuum visits a table this size within a minute of a bulk insert (past 20%
            # of its rows); the list is measured in that steady state, not the minute before.
            cursor.execute(f"VACUUM ANALYZE {Campaign._meta.db_table}")
        for query in LIST_FILTERS:
            big[query].append(time_page(client, url + query, repeats=REPEATS))
    small = {query: pooled(timings) for query, timings in small.items()}
    big = {query: pooled(timings) for query, timings in big.items()}
    worst = max(LIST_FILTERS, key=lambda query: big[query].median / small[query].median)
    same_queries = all(big[q].queries == small[q].queries for q in LIST_FILTERS)
    return [
        figure(
            "campaign list, 10,000 campaigns (worst filter)",
            f"{worst or 'all'}: {big[worst].median * 1000:.1f} ms vs "
            f"{small[worst].median * 1000:.1f} ms for {LIST_PAGE_SIZE} campaigns, "
            f"{LIST_PAGE_SIZE} rows "
            f"each; queries {big[worst].queries} vs {small[worst].queries} "
            f"({'the same' if same_queries else 'NOT the same'} under every filter)",
            big[worst].median / small[worst].median,
            1.3,
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
    return rows.values_list("pk", flat=True)[(page - 1) * DELIVERIES_PAGE_SIZE - 1]


def deliveries_table_figures(
    contact_list: ContactList, *, deliveries: int, page: int = 1_000, repeats: int = 31
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
        # In turns (page 1, page 1,000, ...), so a burst of load elsewhere slows both alike.
        top, deep = time_pages(client, [url + query, url + deep_query], repeats=repeats)
        timings[query] = (top, deep)
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
