"""Generated bench data, written in bulk SQL so that a million rows take seconds.

Every generator numbers its rows i = first … last with `series_sql`, and uses i as the
contact id, so contacts, memberships and deliveries line up without reading anything back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from campaigns.models import Campaign, Contact, ContactList, Membership
from channels import dispatch
from channels.models import Channel, Delivery

# Contacts inserted per statement: SQLite's recursive series is kept to a bounded size.
CONTACT_CHUNK = 200_000
# One delivery in this many converted.
CONVERTED_EVERY = 25


def series_sql(first: int, last: int) -> str:
    """Rows i = first … last: generate_series on PostgreSQL, a recursive CTE on SQLite."""
    first, last = int(first), int(last)
    if connection.vendor == "postgresql":
        return f"generate_series({first}, {last}) AS s(i)"
    return (
        f"(WITH RECURSIVE s(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM s "
        f"WHERE i < {last}) SELECT i FROM s)"
    )


def settle() -> None:
    """Run now the upkeep that bulk inserts leave to PostgreSQL's background (autovacuum,
    the next checkpoint), so it does not run inside the next measurement and take one of
    this machine's cores. Nothing to do on SQLite. CHECKPOINT needs a superuser (or the
    pg_checkpoint role), as the bench's scratch databases are made by one."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")


def insert_contacts(contact_list: ContactList, count: int) -> tuple[int, int]:
    """`count` new contacts, members of `contact_list`; returns their first and last id."""
    contacts, members = Contact._meta.db_table, Membership._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {contacts}")
        first = cursor.fetchone()[0] + 1
        last = first + count - 1
        for start in range(first, last + 1, CONTACT_CHUNK):
            series = series_sql(start, min(start + CONTACT_CHUNK - 1, last))
            cursor.execute(
                f"INSERT INTO {contacts} (id, name, phone, email, timezone, attributes, "
                "opted_out_voice, opted_out_sms, opted_out_email, created_at) "
                "SELECT i, 'Bench ' || i, '+1202' || substr('0000000' || i, -7, 7), "
                "'b' || i || '@example.com', 'UTC', '{}', false, false, false, "
                f"CURRENT_TIMESTAMP FROM {series}"
            )
            cursor.execute(
                f"INSERT INTO {members} (contact_list_id, contact_id, created_at) "
                f"SELECT {int(contact_list.pk)}, i, CURRENT_TIMESTAMP FROM {series}"
            )
        if connection.vendor == "postgresql":
            # The ids were given explicitly: move the sequence past them.
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{contacts}', 'id'), "
                f"(SELECT MAX(id) FROM {contacts}))"
            )
            cursor.execute(f"ANALYZE {contacts}; ANALYZE {members}")
    contact_list.recount()
    return first, last


def add_channel(campaign: Campaign, **fields) -> Channel:
    """A Ready channel of `campaign` with content for every kind (an SMS one by default)."""
    defaults = {
        "kind": Channel.Kind.SMS,
        "name": "bench",
        "voice_script": "Hello {first_name}",
        "sms_template": "Hi {first_name}",
        "email_subject": "News",
        "email_body": "Dear {name}",
        # The engine is measured at any hour of the day, not the kinds' calling hours.
        "window_start": None,
        "window_end": None,
    }
    return campaign.add_channel(Channel(**{**defaults, **fields}), by=None)


def new_channel(contact_list: ContactList, **fields) -> Channel:
    """A channel in a campaign of its own, unpaced unless `max_per_second` is given."""
    campaign = Campaign.objects.create(name="bench", contact_list=contact_list)
    return add_channel(campaign, **{"max_per_second": 10_000_000, **fields})


def cycled_times(times: Sequence[datetime]) -> tuple[str, list]:
    """SQL for row i's time, `times[i % len(times)]`, with its parameters (any database)."""
    adapt = connection.ops.adapt_datetimefield_value
    cases = " ".join(f"WHEN {n} THEN %s" for n in range(len(times)))
    return f"CASE i %% {len(times)} {cases} END", [adapt(t) for t in times]


def seconds_before_now(spread_seconds: int, *, after: int = 0) -> tuple[str, list]:
    """SQL for row i's time, `after + i % spread_seconds` seconds ago (PostgreSQL only)."""
    seconds = f"{int(after)} + i %% {int(spread_seconds)}"
    return f"now() - (({seconds}) * interval '1 second')", []


def insert_deliveries(
    channel: Channel,
    *,
    contacts: tuple[int, int],
    at: tuple[str, list],
    outcomes: Sequence[str] = ("delivered",),
) -> int:
    """One finished delivery per contact first … last, created and finished at `at` (see
    `cycled_times`), outcomes cycled through `outcomes`, one in CONVERTED_EVERY converted;
    then the channel's counters from the ledger, by the engine's own recount."""
    first, last = contacts
    states = [Delivery.State.FAILED if o == "failed" else Delivery.State.DONE for o in outcomes]
    n = len(outcomes)
    state_case = " ".join(f"WHEN {k} THEN '{state}'" for k, state in enumerate(states))
    outcome_case = " ".join(f"WHEN {k} THEN '{outcome}'" for k, outcome in enumerate(outcomes))
    at_sql, at_params = at
    # The statement has parameters, so its modulo operators are written "%%".
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Delivery._meta.db_table} (channel_id, contact_id, state, outcome, "
            "converted, provider_id, error, created_at, finished_at) "
            f"SELECT {int(channel.pk)}, i, CASE i %% {n} {state_case} END, "
            f"CASE i %% {n} {outcome_case} END, i %% {CONVERTED_EVERY} = 0, '', '', "
            f"{at_sql}, {at_sql} FROM {series_sql(first, last)}",
            at_params * 2,
        )
    dispatch.recount(channel_id=channel.pk)
    return last - first + 1


def make_campaigns(
    contact_list: ContactList,
    count: int,
    *,
    statuses: Sequence[str] = ("draft", "active", "completed", "archived"),
    first: int = 0,
) -> None:
    """`count` campaigns numbered from `first`, their statuses cycled through `statuses`,
    each with two channels, in bulk."""
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            name=f"Bench campaign {i}",
            contact_list=contact_list,
            status=statuses[i % len(statuses)],
        )
        for i in range(first, first + count)
    )
    channel_status = {"draft": "ready", "active": "running", "completed": "completed"}
    Channel.objects.bulk_create(
        Channel(
            campaign=campaign,
            kind=kind,
            name=f"{kind} {campaign.name}",
            status=channel_status.get(campaign.status, "completed"),
            audience_size=100,
            processed=50,
        )
        for campaign in campaigns
        for kind in ("sms", "email")
    )
