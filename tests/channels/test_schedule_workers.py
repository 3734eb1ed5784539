"""Scheduled starts with real worker processes on PostgreSQL (SPEC 4b, issue #11).

Both the task enqueued for the schedule's time and every worker's supervisor try to start a
channel that came due; with two workers up to three try at once, and exactly one may.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import ActivityEvent
from channels import scheduling, tasks
from channels.models import Channel
from tests.channels.test_workers import channel_on, status_of, wait_for
from tests.channels.workers import Workers
from tests.factories import ManagerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.workers, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


def test_a_scheduled_start_fires_once_with_two_workers(workers):
    manager = ManagerFactory(username="alice")
    channel = channel_on(50, kind=Channel.Kind.EMAIL, max_per_second=100)
    at = timezone.now() + timedelta(seconds=4)
    scheduling.schedule(channel, at=at, by=manager)
    workers.start(2)

    wait_for(lambda: status_of(channel) == Channel.Status.COMPLETED, timeout=60, workers=workers)
    time.sleep(2)  # two more supervisor ticks: a late second start would show now

    [start] = ActivityEvent.objects.filter(channel=channel, action="start")
    assert start.actor == manager
    assert start.message.startswith("Started (scheduled by alice)")
    channel.refresh_from_db()
    assert channel.started_at >= at
    assert channel.scheduled_at is None
    assert channel.processed == 50


def test_a_cancelled_schedule_never_fires(workers):
    manager = ManagerFactory()
    cancelled = channel_on(5, kind=Channel.Kind.EMAIL, name="Cancelled")
    control = channel_on(5, kind=Channel.Kind.EMAIL, name="Control")
    at = timezone.now() + timedelta(seconds=3)
    scheduling.schedule(cancelled, at=at, by=manager)
    scheduling.schedule(control, at=at, by=manager)
    scheduling.schedule(cancelled, at=None, by=manager)  # its task is already enqueued
    workers.start(2)

    # The control proves the workers ran past the time; then a few supervisor ticks more.
    wait_for(lambda: status_of(control) != Channel.Status.READY, timeout=30, workers=workers)
    time.sleep(3)

    assert status_of(cancelled) == Channel.Status.READY
    assert not ActivityEvent.objects.filter(channel=cancelled, action="start").exists()
    assert ActivityEvent.objects.filter(channel=cancelled, action="unschedule").count() == 1


def test_a_start_that_came_due_with_no_worker_runs_when_one_does_and_says_how_late(workers):
    manager = ManagerFactory(username="bob")
    channel = channel_on(5, kind=Channel.Kind.EMAIL)
    # Scheduled for a time that then passed with no worker up: the channel's schedule and
    # its task, as `scheduling.schedule` left them, are both behind the clock.
    late = timezone.now() - timedelta(minutes=3, seconds=10)
    Channel.objects.filter(pk=channel.pk).update(scheduled_at=late, scheduled_by=manager)
    tasks.start_scheduled.using(run_after=late).enqueue(channel.pk, late.isoformat())
    workers.start(1)

    wait_for(lambda: status_of(channel) != Channel.Status.READY, timeout=30, workers=workers)

    start = ActivityEvent.objects.get(channel=channel, action="start")
    assert start.actor == manager
    assert start.message.startswith(
        f"Started (scheduled by bob), 3 min late: no worker ran at {late:%H:%M} UTC."
    )
