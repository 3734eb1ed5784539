"""Scheduled starts (`channels.scheduling`), on the model side (SPEC section 4b)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.models import ActivityEvent
from channels import scheduling
from channels.models import Channel, InvalidTransition
from tests.factories import ChannelFactory, ManagerFactory

pytestmark = pytest.mark.django_db


def scheduled(minutes: float = 30):
    channel = ChannelFactory()
    manager = ManagerFactory()
    at = timezone.now() + timedelta(minutes=minutes)
    scheduling.schedule(channel, at=at, by=manager)
    return channel, manager, at


def come_due(channel: Channel, *, ago: timedelta = timedelta(seconds=1)):
    """Move the schedule into the past, as the clock would."""
    at = timezone.now() - ago
    Channel.objects.filter(pk=channel.pk).update(scheduled_at=at)
    return at


def test_it_enqueues_a_start_at_the_chosen_time(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    at = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.schedule(channel, at=at, by=ManagerFactory())
    task = DBTaskResult.objects.get(task_path="channels.tasks.start_scheduled")
    assert task.run_after == at
    channel.refresh_from_db()
    assert channel.scheduled_at == at


def test_it_refuses_a_time_in_the_past():
    channel = ChannelFactory()
    with pytest.raises(InvalidTransition, match="in the future"):
        scheduling.schedule(channel, at=timezone.now() - timedelta(minutes=1), by=None)
    channel.refresh_from_db()
    assert channel.scheduled_at is None


def test_only_a_ready_channel_can_be_scheduled():
    channel = ChannelFactory()
    channel.start()
    with pytest.raises(InvalidTransition, match="ready"):
        scheduling.schedule(channel, at=timezone.now() + timedelta(hours=1), by=None)


def test_it_does_not_start_before_its_time():
    channel, _, at = scheduled()
    assert not scheduling.start_if_due(channel_id=channel.pk, at=at)
    assert scheduling.start_due() == 0
    channel.refresh_from_db()
    assert channel.status == Channel.Status.READY


def test_it_starts_in_the_name_of_who_scheduled_it_once():
    channel, manager, _ = scheduled()
    at = come_due(channel)
    assert scheduling.start_if_due(channel_id=channel.pk, at=at)
    assert not scheduling.start_if_due(channel_id=channel.pk, at=at)  # a second worker
    assert scheduling.start_due() == 0
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING
    assert channel.scheduled_at is None
    [event] = ActivityEvent.objects.filter(action="start", channel=channel)
    assert event.actor == manager
    assert event.message.startswith(f"Started (scheduled by {manager.username}).")


def test_a_start_that_came_due_without_a_worker_says_how_late():
    channel, manager, _ = scheduled()
    come_due(channel, ago=timedelta(hours=1, minutes=5))
    assert scheduling.start_due() == 1
    event = ActivityEvent.objects.get(action="start", channel=channel)
    assert "1 h 5 min late" in event.message


def test_a_cancelled_or_changed_schedule_never_fires():
    channel, manager, old = scheduled()
    scheduling.schedule(channel, at=None, by=manager)
    assert not scheduling.start_if_due(channel_id=channel.pk, at=old)
    assert scheduling.start_due() == 0

    later = timezone.now() + timedelta(hours=3)
    scheduling.schedule(channel, at=later, by=manager)
    Channel.objects.filter(pk=channel.pk).update(scheduled_at=timezone.now())
    assert not scheduling.start_if_due(channel_id=channel.pk, at=old)  # the stale task
    channel.refresh_from_db()
    assert channel.status == Channel.Status.READY
