"""Background tasks on Django's tasks framework (django-tasks-db: `manage.py db_worker`)."""

import logging
from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from . import dispatch

log = logging.getLogger("herald.dispatch")


@task()
def dispatch_channel(channel_id: int, generation: int, lane: int) -> None:
    """One time slice of one lane of a running channel, then its continuation."""
    try:
        go_on = dispatch.run_slice(channel_id=channel_id, generation=generation, lane=lane)
    except Exception:
        # A passing database error must not end the chain; retry the slice shortly.
        log.exception("channel %s lane %s: slice failed; retrying", channel_id, lane)
        dispatch_channel.using(run_after=timezone.now() + timedelta(seconds=1)).enqueue(
            channel_id, generation, lane
        )
        return
    if go_on:
        dispatch_channel.enqueue(channel_id, generation, lane)


@task()
def supervise(token: str) -> None:
    """Sweep expired claims and wake running channels that no task chain serves."""
    dispatch.supervise(token=token)
