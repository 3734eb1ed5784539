"""What the command center shows about a campaign's channels while they run.

The live partial is polled every two seconds by everyone watching a campaign, so it reads
a fixed number of queries however many channels and deliveries there are (one more when a
voice channel retries: its deliveries waiting for a retry).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import (
    DateTimeField,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)

from . import retries
from .models import Channel, Delivery
from .supervisor import flag_unserved
from .windows import waiting_text

# The current rate is the deliveries created in this window, per second...
RATE_WINDOW = timedelta(seconds=30)
# ... or over the last this many, when more came in that window: each poll reads at most
# twice this many index entries of a channel's ledger, however fast it runs. Exact up to 100
# contacts a second, the most one real sender accepts (SPEC section 8) and the fastest
# default pace; a faster channel reads as 100 a second.
RATE_SAMPLE = 100


class SampleCount(Subquery):
    """How many rows a sliced subquery has (at most its LIMIT)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS sample)"
    output_field = IntegerField()


class SampleStart(Subquery):
    """The oldest `created_at` of a sliced subquery's rows."""

    template = "(SELECT MIN(sample.created_at) FROM (%(subquery)s) AS sample)"
    output_field = DateTimeField()


def channels_with_recent_deliveries(*, since: datetime) -> QuerySet[Channel]:
    """Channels annotated with their rate sample: `recent_deliveries`, the deliveries created
    at or after `since` (at most RATE_SAMPLE, the newest), and `sample_start`, when the
    oldest of those was created.

    Each is a subquery per channel that reads a bounded range of `delivery_channel_time_idx`
    backwards from the newest delivery. A join grouped by channel would count every
    delivery of the window, and PostgreSQL may plan it as a walk through the whole index.
    """
    sample = (
        Delivery.objects.filter(channel=OuterRef("pk"), created_at__gte=since)
        .order_by("-created_at")
        .values("created_at")[:RATE_SAMPLE]
    )
    return Channel.objects.annotate(
        recent_deliveries=SampleCount(sample), sample_start=SampleStart(sample)
    ).order_by("created_at", "pk")


def load_live_channels(campaign, *, now: datetime) -> list[Channel]:
    """Load `campaign.channels` (one query) with `rate`, `seconds_left` and `worker_missing`
    on each channel (one more query while one runs)."""
    # The card of a scheduled channel names who scheduled it.
    queryset = channels_with_recent_deliveries(since=now - RATE_WINDOW).select_related(
        "scheduled_by"
    )
    prefetch_related_objects([campaign], Prefetch("channels", queryset=queryset))
    channels = list(campaign.channels.all())
    # A follow-up names its source channel, which is one of these: no query for it.
    by_pk = {channel.pk: channel for channel in channels}
    for channel in channels:
        if channel.source_channel_id in by_pk:
            Channel.source_channel.field.set_cached_value(
                channel, by_pk[channel.source_channel_id]
            )
    flag_unserved(channels, now=now)
    waiting = retries.waiting_by_channel(channels)
    for channel in channels:
        count, next_due = waiting.get(channel.pk, (0, None))
        channel.retry_wait = retries.waiting_text(count, next_due, now=now) if count else ""
        channel.retry_policy = retries.describe(channel)
        channel.rate = current_rate(channel, now=now)
        channel.seconds_left = seconds_left(channel)
        channel.window_wait = waiting_text(channel, now=now)
    return channels


def current_rate(channel: Channel, *, now: datetime) -> float | None:
    """Contacts per second over the last 30 s (or since the start, if that is sooner, or over
    the last RATE_SAMPLE deliveries, if they came sooner)."""
    if channel.status != Channel.Status.RUNNING or channel.started_at is None:
        return None
    if getattr(channel, "worker_missing", False):
        return None  # no rate and no time left to promise: nothing is working on it
    since = max(now - RATE_WINDOW, channel.started_at)
    if channel.recent_deliveries >= RATE_SAMPLE:
        since = max(since, channel.sample_start)
    return channel.recent_deliveries / max((now - since).total_seconds(), 1.0)


def seconds_left(channel: Channel) -> int | None:
    rate = getattr(channel, "rate", None)
    if not rate:
        return None
    return round(channel.remaining / rate)


def is_live(channel: Channel) -> bool:
    """Whether the command center should keep polling for this channel."""
    return channel.status == Channel.Status.RUNNING or channel.in_flight > 0


def outcome_rows(channel: Channel) -> list[tuple[str, int]]:
    """(label, count) for each outcome the channel's kind can have, in a fixed order."""
    return [
        (outcome.label, channel.outcome_counts.get(outcome, 0))
        for outcome in Channel.OUTCOMES.get(channel.kind, [])
    ]
