"""Keeping running channels alive and honest: waking their task chains, the supervisor's
tick (claims whose lease ran out become `interrupted`, accepted deliveries whose outcome never
came are closed, counter deltas are folded, channels no live chain serves are woken), and
completing a channel once every audience contact has a final delivery (SPEC G4, G5).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from . import events, retries
from .models import Channel, CounterDelta, Delivery, EngineLease, InvalidTransition
from .options import option

log = logging.getLogger("herald.dispatch")

SUPERVISOR = "supervisor"


def wake(*, channel_id: int) -> None:
    """Start a fresh generation of task chains for a running channel."""
    from . import tasks

    with transaction.atomic():
        woken = Channel.objects.filter(pk=channel_id, status=Channel.Status.RUNNING).update(
            dispatch_generation=models.F("dispatch_generation") + 1,
            lane_heartbeats={str(lane): time.time() for lane in range(option("lanes"))},
        )
        if not woken:
            return
        generation, pace = Channel.objects.values_list(
            "dispatch_generation", "max_per_second"
        ).get(pk=channel_id)
        # A fresh start or resume jumps the queue of other channels' continuations, so the
        # first contact goes out within one slice whatever else runs (SPEC section 8).
        first_slice = tasks.dispatch_channel.using(priority=tasks.WAKE_PRIORITY)
        for lane in range(lanes_for(pace)):
            first_slice.enqueue(channel_id, generation, lane)
    ensure_supervisor()


def ensure_supervisor() -> None:
    """Enqueue a supervisor chain unless a live one holds the lease."""
    from . import tasks

    lease = EngineLease.objects.filter(name=SUPERVISOR).first()
    if lease is None or lease.expires_at <= timezone.now():
        tasks.supervise.enqueue(uuid.uuid4().hex)


def supervise(*, token: str) -> bool:
    """One supervisor tick; returns whether the chain goes on (something still runs)."""
    from . import scheduling, tasks

    interval = option("supervisor_seconds")
    # Schedules that came due while no worker ran start now (saying how late).
    scheduling.start_due()
    now = timezone.now()
    with transaction.atomic():
        lease, _ = EngineLease.objects.select_for_update().get_or_create(
            name=SUPERVISOR, defaults={"token": token, "expires_at": now}
        )
        if lease.token != token and lease.expires_at > now:
            return False  # another chain supervises
        # Stopped and paused channels still have calls and messages out: their outcomes and
        # timeouts need a supervisor as much as running channels do.
        running = list(
            Channel.objects.filter(
                models.Q(status=Channel.Status.RUNNING) | models.Q(in_flight__gt=0)
            ).values_list("pk")
        )
        lease.token = token
        lease.expires_at = now + timedelta(seconds=interval * 3) if running else now
        lease.save()
        if running:
            # The successor is enqueued in the same transaction as the lease: a worker killed
            # during this tick leaves the chain alive.
            tasks.supervise.using(
                run_after=now + timedelta(seconds=interval), priority=tasks.SUPERVISOR_PRIORITY
            ).enqueue(token)
    ids = [channel_id for (channel_id,) in running]
    folding, stranded, overdue = needing_work(ids, now=timezone.now())
    for channel_id in ids:
        # Each of these locks the channel's row, and a lock is a write PostgreSQL flushes at
        # commit: only channels with something to do pay it (100 running channels once made
        # a tick 300 commits, and the supervisor held a worker most of the time).
        if channel_id in folding:
            events.fold(channel_id=channel_id)
        if channel_id in stranded:
            sweep_expired(channel_id=channel_id)
        if channel_id in overdue:
            close_overdue(channel_id=channel_id)
    # Then every channel's row at once, not two queries per channel (which were an eighth of
    # a worker's time with 100 channels running).
    for channel in Channel.objects.filter(pk__in=ids, status=Channel.Status.RUNNING).only(
        *FINISHED_FIELDS, "lane_heartbeats", "max_per_second"
    ):
        if finished(channel):
            try_complete(channel_id=channel.pk)
        elif stale_lanes(channel):
            log.warning("channel %s lost a task chain (a worker died); waking it", channel.pk)
            wake(channel_id=channel.pk)
    return bool(running)


def needing_work(channel_ids: list[int], *, now) -> tuple[set[int], set[int], set[int]]:
    """Of `channel_ids`: those with counter deltas to fold, with claims whose lease ran out,
    with accepted deliveries past their outcome timeout. Read without locks: what comes
    after this look waits for the next tick."""

    def having(rows: models.QuerySet) -> set[int]:
        return set(
            rows.filter(channel_id__in=channel_ids).values_list("channel_id", flat=True).distinct()
        )

    past_lease = Delivery.objects.filter(lease_expires_at__lt=now)
    return (
        having(CounterDelta.objects.all()),
        having(past_lease.filter(state=Delivery.State.SENDING)),
        having(past_lease.filter(state=Delivery.State.ACCEPTED)),
    )


# A channel paced at most this many contacts a second is served by one lane: one worker
# keeps up with it many times over (a lane sends thousands a second to a fast provider, and
# up to 1,600 to one that takes 20 ms a send on 32 threads), and a second lane would only
# wake each second to find the window full, queueing on the first one's lock: with 100
# channels at 10/s on two workers, 40% of a claim's time was the SELECT that takes it.
SINGLE_LANE_PACE = 100


def lanes_for(max_per_second: int) -> int:
    """How many task chains serve a running channel paced at `max_per_second`."""
    return 1 if max_per_second <= SINGLE_LANE_PACE else option("lanes")


def lost_lanes(channel_id: int) -> list[str]:
    """Lanes of a running channel that have not claimed for longer than a lease."""
    channel = Channel.objects.filter(pk=channel_id, status=Channel.Status.RUNNING).first()
    return [] if channel is None else stale_lanes(channel)


def stale_lanes(channel: Channel) -> list[str]:
    stale = time.time() - max(option("lease_seconds"), 3 * option("slice_seconds"))
    beats = channel.lane_heartbeats
    lanes = range(lanes_for(channel.max_per_second))
    return [str(n) for n in lanes if beats.get(str(n), 0) < stale]


def flag_unserved(channels: Iterable[Channel], *, now: datetime) -> None:
    """Set `worker_missing` on each channel: running, yet no worker has picked it up for
    longer than a lease (SPEC G4's lease: `HERALD_ENGINE["lease_seconds"]`).

    Lanes silent for a lease could be a channel waiting only for its provider's events; but
    any live worker also keeps the supervisor's lease fresh. Silent lanes and a stale
    supervisor lease mean no `db_worker` runs at all. The lease is read (one query) only
    when some channel's lanes are silent.
    """
    silent_since = now.timestamp() - option("lease_seconds")
    silent = []
    for channel in channels:
        channel.worker_missing = False
        if channel.status != Channel.Status.RUNNING:
            continue
        started = channel.started_at.timestamp() if channel.started_at else now.timestamp()
        if max(channel.lane_heartbeats.values(), default=started) < silent_since:
            silent.append(channel)
    if silent and not EngineLease.objects.filter(name=SUPERVISOR, expires_at__gt=now).exists():
        for channel in silent:
            channel.worker_missing = True


def sweep_expired(*, channel_id: int) -> int:
    """Turn claims whose lease ran out into `interrupted` (counted, never re-sent)."""
    now = timezone.now()
    with transaction.atomic():
        Channel.objects.select_for_update(no_key=True).filter(pk=channel_id).values_list(
            "pk"
        ).first()
        stranded = Delivery.objects.filter(
            channel_id=channel_id, state=Delivery.State.SENDING, lease_expires_at__lt=now
        ).update(
            state=Delivery.State.INTERRUPTED,
            finished_at=now,
            lease_expires_at=None,
            error="Interrupted: the worker handling it stopped before the provider answered.",
        )
        if stranded:
            log.warning(
                "channel %s: %s claims interrupted after their lease", channel_id, stranded
            )
            Channel.objects.filter(pk=channel_id).update(
                in_flight=models.F("in_flight") - stranded,
                processed=models.F("processed") + stranded,
                interrupted=models.F("interrupted") + stranded,
            )
    return stranded


def close_overdue(*, channel_id: int) -> int:
    """Close accepted deliveries whose final event never came (SPEC G4).

    They keep their last known outcome (`sent`); a call with none is failed.
    """
    now = timezone.now()
    note = "No final report from the provider in time; closed with its last known outcome."
    with transaction.atomic():
        channel = (
            Channel.objects.select_for_update(no_key=True)
            .only("outcome_counts")
            .get(pk=channel_id)
        )
        overdue = Delivery.objects.filter(
            channel_id=channel_id, state=Delivery.State.ACCEPTED, lease_expires_at__lt=now
        )
        closing = {"finished_at": now, "lease_expires_at": None, "error": note}
        unknown = overdue.filter(outcome="").update(
            state=Delivery.State.FAILED, outcome="failed", **closing
        )
        known = overdue.update(state=Delivery.State.DONE, **closing)
        if not unknown + known:
            return 0
        log.warning(
            "channel %s: %s deliveries closed without a final event", channel_id, unknown + known
        )
        counts = dict(channel.outcome_counts)
        if unknown:
            counts["failed"] = counts.get("failed", 0) + unknown
        Channel.objects.filter(pk=channel_id).update(
            in_flight=models.F("in_flight") - (unknown + known),
            processed=models.F("processed") + (unknown + known),
            outcome_counts=counts,
        )
    return unknown + known


def unreached_audience(channel: Channel) -> models.QuerySet:
    """Audience contacts without a delivery: empty once a run is really finished."""
    return channel.audience_contact_ids().exclude(
        contact_id__in=Delivery.objects.filter(channel_id=channel.pk).values("contact_id")
    )


def complete_if_done(*, channel_id: int) -> bool:
    """Complete a running channel once its counters say every contact is finished.

    Called when a provider event settles a delivery and on every supervisor tick: a channel
    whose last contacts were accepted completes when their outcomes arrive, with no task
    chain waiting for them.
    """
    channel = Channel.objects.filter(pk=channel_id, status=Channel.Status.RUNNING).only(
        *FINISHED_FIELDS
    )
    return bool(channel) and finished(channel[0]) and try_complete(channel_id=channel_id)


FINISHED_FIELDS = ("status", "in_flight", "processed", "audience_size")


def finished(channel: Channel) -> bool:
    """Whether a running channel's counters say every contact is finished."""
    return (
        channel.status == Channel.Status.RUNNING
        and not channel.in_flight
        and channel.processed >= channel.audience_size
    )


def try_complete(*, channel_id: int) -> bool:
    channel = Channel.objects.select_related("campaign").get(pk=channel_id)
    if channel.status != Channel.Status.RUNNING or channel.in_flight:
        return False
    if unreached_audience(channel).exists():
        # The cursor walked past someone (it should not): walk the audience again; the
        # ledger keeps those already contacted from being contacted twice.
        log.error("channel %s: audience not exhausted at the end; rewalking", channel_id)
        Channel.objects.filter(pk=channel_id).update(
            claim_cursor=0, zone_cursors={}, audience_zones=None
        )
        return False
    if retries.waiting(channel).exists():
        return False  # SPEC 4b: a channel completes only when no retry is due
    try:
        channel.complete()
    except InvalidTransition:
        return False  # paused or stopped meanwhile
    return True
