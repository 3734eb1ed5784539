"""The analytics figure: the polled figures partial of a big campaign against a small one.

`bench_analytics(deliveries=1_000_000)` builds, in the current database, one completed
campaign with 20 channels and that many deliveries (bulk SQL, so the set-up takes seconds)
and one with the same 20 channels and 10 deliveries each, then times the Analytics partial
of each as a signed-in viewer. Run it against a scratch database: it leaves its rows behind.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import connection
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from campaigns import roles
from campaigns.models import Campaign, ContactList
from channels.models import Channel, Delivery

from .data import add_channel, cycled_times, insert_contacts, insert_deliveries
from .report import figure
from .timing import HTMX, signed_in_client, time_pages

CHANNELS = 20
# The small campaign: the same 20 channels, with this many deliveries each.
SMALL_PER_CHANNEL = 10
ROUNDS = 25
# Outcomes by kind, cycled through the generated rows (i % len): a realistic-looking mix.
MIX = {
    "ai_voice": ["answered", "voicemail", "no_answer", "no_answer", "busy", "failed"],
    "sms": ["delivered", "delivered", "delivered", "sent", "undelivered", "failed"],
    "email": ["delivered", "delivered", "delivered", "sent", "bounced", "failed"],
}


def build_campaign(*, channels: int, deliveries: int, name: str) -> Campaign:
    """A completed campaign of `channels` channels sharing `deliveries` deliveries, each
    channel's spread over 12 five-minute steps of the last hour."""
    per_channel = max(1, deliveries // channels)
    contact_list = ContactList.objects.create(name=f"{name} {time.time_ns()}")
    first, last = insert_contacts(contact_list, per_channel)
    campaign = Campaign.objects.create(name=name, contact_list=contact_list)
    kinds = [Channel.Kind.AI_VOICE, Channel.Kind.SMS, Channel.Kind.EMAIL]
    started = timezone.now() - timedelta(hours=1)
    steps = cycled_times([started + timedelta(minutes=5 * step) for step in range(12)])
    for number in range(channels):
        channel = add_channel(
            campaign, kind=kinds[number % 3], name=f"{name} channel {number + 1}"
        )
        insert_deliveries(channel, contacts=(first, last), at=steps, outcomes=MIX[channel.kind])
        # Bench set-up only: the rows above are a finished run, so mark it so directly.
        Channel.objects.filter(pk=channel.pk).update(
            status=Channel.Status.COMPLETED,
            audience_size=per_channel,
            audience_cutoff=last,
            started_at=started,
            finished_at=started + timedelta(hours=1),
        )
    campaign.refresh_status()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
    return campaign


def partial_url(campaign: Campaign) -> str:
    return reverse("campaigns:analytics", args=[campaign.pk])


def bench_analytics(*, deliveries: int) -> dict:
    """{"big_ms", "small_ms", "queries_big", "queries_small"} for the Analytics partial.

    Also "big_first_ms": the big campaign's first call, which reads the whole ledger for the
    progress series; later ones (the polls) read only its open buckets
    (campaigns.analytics.bucket_counts).
    """
    big = build_campaign(channels=CHANNELS, deliveries=deliveries, name="bench analytics big")
    small = build_campaign(
        channels=CHANNELS, deliveries=CHANNELS * SMALL_PER_CHANNEL, name="bench analytics small"
    )
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        client = signed_in_client("bench-analytics", role=roles.VIEWERS)
        urls = [partial_url(big), partial_url(small)]
        big_page, small_page = time_pages(client, urls, repeats=ROUNDS, headers=HTMX)
    return {
        "big_first_ms": round(big_page.first * 1000, 2),
        "big_ms": round(big_page.median * 1000, 2),
        "small_ms": round(small_page.median * 1000, 2),
        "queries_big": big_page.queries,
        "queries_small": small_page.queries,
    }


def analytics_figures(deliveries: int) -> list[dict]:
    result = bench_analytics(deliveries=deliveries)
    return [
        figure(
            f"analytics partial, 20 channels and {deliveries:,} deliveries",
            f"{result['big_ms']:.1f} ms per poll ({result['big_first_ms']:.0f} ms the first, "
            f"uncached), {result['queries_big']} queries vs {result['small_ms']:.1f} ms, "
            f"{result['queries_small']} queries for the same 20 channels with "
            f"{SMALL_PER_CHANNEL} deliveries each",
            result["big_ms"] / result["small_ms"],
            1.2,
            higher=False,
        )
    ]
