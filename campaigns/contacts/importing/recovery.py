"""The import watchdog: an import whose worker died is taken over by another worker.

Each chunk's worker beats on its job (`ImportJob.beat`, and every committed batch). One task
chain, holding the `imports` lease as the engine's supervisor holds its own, ticks while any
import is unfinished: an import whose heartbeat is older than HERALD_IMPORT_STALL_SECONDS
gets a new chunk queued, which goes on from the last committed batch. If the stalled worker
was only slow, the chunk writer's compare-and-set lets one of the two go on and ends the
other's chunk quietly (job.py).

The chain's successor is queued in the same transaction as the lease, so a worker killed
during a tick leaves the chain alive; every chunk calls `ensure_watchdog`, so a chain that
died anyway is started again by the next chunk or the next upload.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from campaigns.models import ImportJob
from channels.models import EngineLease

logger = logging.getLogger("herald.importing")

LEASE = "imports"


def tick_seconds() -> float:
    return max(0.5, settings.HERALD_IMPORT_STALL_SECONDS / 3)


def ensure_watchdog() -> None:
    """Queue a watchdog chain unless a live one holds the lease."""
    from campaigns.contacts import tasks

    lease = EngineLease.objects.filter(name=LEASE).first()
    if lease is None or lease.expires_at <= timezone.now():
        tasks.watch_imports.enqueue(token=uuid.uuid4().hex)


def watch(*, token: str) -> bool:
    """One tick; returns whether the chain goes on (an import is still unfinished)."""
    from campaigns.contacts import tasks

    now = timezone.now()
    interval = timedelta(seconds=tick_seconds())
    with transaction.atomic():
        lease, _ = EngineLease.objects.select_for_update().get_or_create(
            name=LEASE, defaults={"token": token, "expires_at": now}
        )
        if lease.token != token and lease.expires_at > now:
            return False  # another chain watches
        going_on = ImportJob.objects.filter(status__in=ImportJob.UNFINISHED_STATUSES).exists()
        lease.token = token
        lease.expires_at = now + 3 * interval if going_on else now
        lease.save()
        if going_on:
            tasks.watch_imports.using(run_after=now + interval).enqueue(token=token)
    if going_on:
        take_over_stalled()
    return going_on


def take_over_stalled() -> list[int]:
    """Queue a chunk for every unfinished import whose worker stopped beating; their ids."""
    from campaigns.contacts import tasks

    now = timezone.now()
    stale = now - timedelta(seconds=settings.HERALD_IMPORT_STALL_SECONDS)
    # Not taken over within the last stall period: one takeover per stall, whatever ticks
    # overlap; the page goes on saying "stalled" until the new worker beats.
    stalled = ImportJob.objects.filter(
        models.Q(taken_over_at__isnull=True) | models.Q(taken_over_at__lt=stale),
        status__in=ImportJob.UNFINISHED_STATUSES,
        heartbeat_at__lt=stale,
    )
    taken = []
    for job_id in stalled.values_list("pk", flat=True):
        with transaction.atomic():
            if stalled.filter(pk=job_id).update(
                taken_over_at=now, takeovers=models.F("takeovers") + 1
            ):
                logger.warning("Import job %s stalled (its worker stopped): taken over", job_id)
                tasks.import_contacts.enqueue(job_id=job_id)
                taken.append(job_id)
    return taken
