"""The analytics figure of `make bench`: the polled figures partial, big campaign vs small.

`bench_analytics(deliveries=1_000_000)` builds, in the current database, one campaign with
20 channels and that many deliveries (plain INSERT … SELECT over a generated series, so the
set-up takes seconds), and one campaign with 1 channel and 10 deliveries; then times the
Analytics partial of each through django.test.Client as a signed-in user. Run it against a
scratch database: it leaves its rows behind.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

CHANNELS = 20
ROUNDS = 5
# Outcomes by kind, cycled through the generated rows (i % len): a realistic-looking mix.
MIX = {
    "ai_voice": ["answered", "voicemail", "no_answer", "no_answer", "busy", "failed"],
    "sms": ["delivered", "delivered", "delivered", "sent", "undelivered", "failed"],
    "email": ["delivered", "delivered", "delivered", "sent", "bounced", "failed"],
}


def series_sql(first: int, last: int) -> str:
    """Rows i = first … last: generate_series on PostgreSQL, a recursive CTE on SQLite."""
    if connection.vendor == "postgresql":
        return f"generate_series({first}, {last}) AS s(i)"
    first, last = int(first), int(last)
    return (
        f"(WITH RECURSIVE s(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM s "  # noqa: S608
        f"WHERE i < {last}) SELECT i FROM s)"
    )


def insert_contacts(contact_list, count: int) -> tuple[int, int]:
    """`count` contacts in the list; returns their first and last id."""
    from campaigns.models import Contact, Membership

    contacts, members = Contact._meta.db_table, Membership._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {contacts}")  # noqa: S608
        first = cursor.fetchone()[0] + 1
        last = first + count - 1
        series = series_sql(first, last)
        cursor.execute(
            f"INSERT INTO {contacts} (id, name, phone, email, timezone, attributes, "  # noqa: S608
            "opted_out_voice, opted_out_sms, opted_out_email, created_at) "
            "SELECT i, 'Bench ' || i, '+1202' || substr('0000000' || i, -7, 7), "
            "'b' || i || '@example.com', 'UTC', '{}', false, false, false, CURRENT_TIMESTAMP "
            f"FROM {series}"
        )
        cursor.execute(
            f"INSERT INTO {members} (contact_list_id, contact_id, created_at) "  # noqa: S608
            f"SELECT {int(contact_list.pk)}, i, CURRENT_TIMESTAMP FROM {series}"
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{contacts}', 'id'), {last})"  # noqa: S608
            )
    contact_list.recount()
    return first, last


def insert_deliveries(channel, *, first: int, last: int, started) -> None:
    """One finished delivery per contact first … last, spread over 12 five-minute steps."""
    from channels.models import Delivery

    outcomes = MIX[channel.kind]
    outcome_case = " ".join(f"WHEN {n} THEN '{o}'" for n, o in enumerate(outcomes))
    times = [started + timedelta(minutes=5 * step) for step in range(12)]
    time_case = " ".join(f"WHEN {n} THEN %s" for n in range(len(times)))
    adapt = connection.ops.adapt_datetimefield_value
    # The statement has parameters, so its modulo operators are written "%%".
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (channel_id, contact_id, state, outcome, converted, "  # noqa: S608
            "provider_id, error, created_at, finished_at) "
            f"SELECT {int(channel.pk)}, i, "
            f"CASE WHEN i %% {len(outcomes)} = {len(outcomes) - 1} THEN 'failed' ELSE 'done' END, "
            f"CASE i %% {len(outcomes)} {outcome_case} END, i %% 25 = 0, '', '', "
            f"CASE i %% 12 {time_case} END, CASE i %% 12 {time_case} END "
            f"FROM {series_sql(first, last)}",
            [adapt(t) for t in times] * 2,
        )


def build_campaign(*, channels: int, deliveries: int, name: str):
    """A completed campaign of `channels` channels sharing `deliveries` deliveries."""
    from campaigns.models import Campaign, ContactList
    from channels import dispatch
    from channels.models import Channel, Delivery

    per_channel = max(1, deliveries // channels)
    contact_list = ContactList.objects.create(name=f"{name} {time.time_ns()}")
    first, last = insert_contacts(contact_list, per_channel)
    campaign = Campaign.objects.create(name=name, contact_list=contact_list)
    kinds = [Channel.Kind.AI_VOICE, Channel.Kind.SMS, Channel.Kind.EMAIL]
    started = timezone.now() - timedelta(hours=1)
    for number in range(channels):
        channel = Channel.objects.create(
            campaign=campaign,
            kind=kinds[number % 3],
            name=f"{name} channel {number + 1}",
            voice_script="Hello {first_name}",
            sms_template="Hi {first_name}",
            email_subject="News",
            email_body="Dear {name}",
        )
        insert_deliveries(channel, first=first, last=last, started=started)
        dispatch.recount(channel_id=channel.pk)
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


def time_partial(client: Client, campaign) -> tuple[float, float, int]:
    """Milliseconds of the first call, the median of the next ROUNDS, and the query count.

    The first call reads the whole ledger for the progress series; later ones (the polls)
    read only its open buckets (campaigns.analytics.bucket_counts).
    """
    url = reverse("campaigns:analytics", args=[campaign.pk])
    start = time.perf_counter()
    client.get(url, HTTP_HX_REQUEST="true")
    first_ms = (time.perf_counter() - start) * 1000
    timings = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(url, HTTP_HX_REQUEST="true")
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 286), response.status_code
    with CaptureQueriesContext(connection) as captured:
        client.get(url, HTTP_HX_REQUEST="true")
    return first_ms, statistics.median(timings), len(captured)


def bench_analytics(*, deliveries: int) -> dict:
    """{"big_ms", "small_ms", "queries_big", "queries_small"} for the Analytics partial.

    Also "big_first_ms": the big campaign's first, uncached call.
    """
    from django.contrib.auth.models import User

    from campaigns import roles

    big = build_campaign(channels=CHANNELS, deliveries=deliveries, name="bench analytics big")
    small = build_campaign(channels=1, deliveries=10, name="bench analytics small")
    user, _ = User.objects.get_or_create(username="bench-analytics")
    user.groups.add(roles.group(roles.VIEWERS))
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        client = Client()
        client.force_login(user)
        big_first_ms, big_ms, queries_big = time_partial(client, big)
        _, small_ms, queries_small = time_partial(client, small)
    return {
        "big_first_ms": round(big_first_ms, 2),
        "big_ms": round(big_ms, 2),
        "small_ms": round(small_ms, 2),
        "queries_big": queries_big,
        "queries_small": queries_small,
    }
