"""Scheduled starts (SPEC section 4b): a Ready channel starts at a chosen time, in the name of
the manager who scheduled it, exactly as if they had clicked Start.

A task is enqueued to run at that time; the supervisor also starts any schedule that came
due while no worker ran. Either may come second, or twice with two workers: the start is
the channel's race-safe transition, so only one succeeds and the others change nothing.
A task whose schedule was changed or cancelled finds a different `scheduled_at` and does
nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from campaigns.dates import format_when

from .models import AlreadyDone, Channel, InvalidTransition

log = logging.getLogger("herald.dispatch")

# A start this much after its time or later says how late it was.
LATE = timedelta(seconds=60)


class StartInThePast(InvalidTransition):
    """A time refused as such (the form's 400), unlike a channel that cannot be scheduled."""


def schedule(channel: Channel, *, at: datetime | None, by) -> None:
    """Set, change (`at`) or cancel (`at=None`) a Ready channel's start, in the activity log."""
    from campaigns.models import ActivityEvent, Campaign

    from . import tasks

    if at is not None and at <= timezone.now():
        raise StartInThePast("A start time must be in the future.")
    with transaction.atomic():
        # Campaign first, then channel: the lock order of every transition.
        campaign = Campaign.objects.lock_for_change(channel.campaign_id)
        locked = Channel.objects.select_for_update(no_key=True).get(pk=channel.pk)
        if locked.status != Channel.Status.READY:
            status = Channel.Status(locked.status).label.lower()
            raise InvalidTransition(
                f"Only a ready channel can be scheduled; this one is {status}."
            )
        if at is None and locked.scheduled_at is None:
            raise AlreadyDone("This channel has no scheduled start.")
        Channel.objects.filter(pk=locked.pk).update(
            scheduled_at=at, scheduled_by=by if at else None
        )
        ActivityEvent.record(
            actor=by,
            action="schedule" if at else "unschedule",
            campaign=campaign,
            channel=locked,
            message=f"To start at {format_when(at, zone=UTC)} UTC." if at else "",
        )
        if at is not None:
            transaction.on_commit(
                lambda: tasks.start_scheduled.using(run_after=at).enqueue(
                    channel.pk, at.isoformat()
                )
            )
    channel.scheduled_at, channel.scheduled_by = at, by if at else None


def start_if_due(*, channel_id: int, at: datetime | None = None) -> bool:
    """Start the channel if its schedule (the one at `at`, when given) has come due."""
    now = timezone.now()
    channel = (
        Channel.objects.select_related("scheduled_by")
        .filter(pk=channel_id, status=Channel.Status.READY, scheduled_at__lte=now)
        .first()
    )
    if channel is None or (at is not None and channel.scheduled_at != at):
        return False  # started, changed or cancelled meanwhile
    by = channel.scheduled_by
    reason = f"Started (scheduled by {by.get_username() if by else 'a deleted user'})"
    late = now - channel.scheduled_at
    if late >= LATE:
        reason += f", {format_delay(late)} late: no worker ran at {channel.scheduled_at:%H:%M} UTC"
    try:
        channel.start(by=by, reason=reason + ".")
    except InvalidTransition:
        return False  # another worker started it, or the campaign was archived
    log.info("channel %s: %s", channel_id, reason)
    return True


def start_due(*, now: datetime | None = None) -> int:
    """The supervisor's check: start every schedule that came due."""
    due = Channel.objects.filter(
        status=Channel.Status.READY, scheduled_at__lte=now or timezone.now()
    ).values_list("pk", flat=True)
    return sum(start_if_due(channel_id=pk) for pk in list(due))


def format_delay(delay: timedelta) -> str:
    minutes = int(delay.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
