"""Background tasks on Django's tasks framework (django-tasks-db: `manage.py db_worker`)."""

import logging
from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from . import dispatch

log = logging.getLogger("herald.dispatch")

# Tasks run highest priority first. The supervisor is quick and keeps the figures true; a
# channel's first slice after Start or Resume comes next, so a manager
# sees the first contact within one slice; continuations of running channels share the rest.
SUPERVISOR_PRIORITY = 20
WAKE_PRIORITY = 10
# A slice that fails (a database restart, say) is retried after 1, 2, 4 ... seconds, at most
# this many: a broken channel never spins a worker in a tight loop.
MAX_RETRY_DELAY = 60


@task()
def dispatch_channel(channel_id: int, generation: int, lane: int, failures: int = 0) -> None:
    """One time slice of one lane of a running channel, then its continuation."""
    try:
        then = dispatch.run_slice(channel_id=channel_id, generation=generation, lane=lane)
    except Exception:
        delay = min(MAX_RETRY_DELAY, 2**failures)
        log.exception(
            "channel %s lane %s: slice failed (%s in a row); retrying in %s s",
            *(channel_id, lane, failures + 1, delay),
        )
        dispatch_channel.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
            channel_id, generation, lane, failures + 1
        )
        return
    if then is None:
        return
    if then > 0:
        continuation = dispatch_channel.using(run_after=timezone.now() + timedelta(seconds=then))
    else:
        continuation = dispatch_channel
    continuation.enqueue(channel_id, generation, lane)


@task(priority=SUPERVISOR_PRIORITY)
def supervise(token: str) -> None:
    """Sweep expired claims and wake running channels that no task chain serves."""
    dispatch.supervise(token=token)


@task(priority=SUPERVISOR_PRIORITY)
def start_scheduled(channel_id: int, at: str) -> None:
    """A channel's scheduled start (channels/scheduling.py); `at` tells a stale one apart."""
    from datetime import datetime

    from . import scheduling

    scheduling.start_if_due(channel_id=channel_id, at=datetime.fromisoformat(at))
