"""G6: two requests racing on one channel, each in its own thread and connection."""

import threading

import pytest
from django.db import connection

from campaigns.models import ActivityEvent, Campaign
from channels.models import Channel, InvalidTransition
from tests.factories import ChannelFactory, ContactListFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RUNS = 30


def race(channel_pk: int, actions: tuple[str, str], *, by) -> list:
    """Run both actions at once on fresh copies of the channel; return what each one got."""
    barrier = threading.Barrier(len(actions), timeout=30)
    outcomes: list = [None] * len(actions)

    def attempt(index: int, action: str) -> None:
        try:
            channel = Channel.objects.get(pk=channel_pk)
            barrier.wait()
            getattr(channel, action)(by=by)
            outcomes[index] = "done"
        except InvalidTransition as exc:
            outcomes[index] = exc
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(index, action))
        for index, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def events_of(channel: Channel) -> list[tuple[str, str, str]]:
    return list(
        ActivityEvent.objects.filter(channel=channel)
        .order_by("pk")
        .values_list("action", "from_status", "to_status")
    )


def pause_against_stop(user) -> None:
    channel = ChannelFactory(campaign__contact_list=ContactListFactory(size=2))
    channel.start(by=user)

    pause, stop = race(channel.pk, ("pause", "stop"), by=user)

    assert stop == "done"
    channel.refresh_from_db()
    assert channel.status == Channel.Status.STOPPED
    assert Campaign.objects.get(pk=channel.campaign_id).status == "completed"
    events = events_of(channel)
    if pause == "done":
        # The pause got the locks first; the stop then stopped a paused channel.
        assert events == [
            ("start", "ready", "running"),
            ("pause", "running", "paused"),
            ("stop", "paused", "stopped"),
        ]
    else:
        assert isinstance(pause, InvalidTransition)
        assert str(pause) == "This channel was stopped; a stopped run cannot be changed."
        assert events == [("start", "ready", "running"), ("stop", "running", "stopped")]


def start_against_start(user) -> None:
    channel = ChannelFactory(campaign__contact_list=ContactListFactory(size=2))

    outcomes = race(channel.pk, ("start", "start"), by=user)

    assert outcomes.count("done") == 1
    (loser,) = [outcome for outcome in outcomes if outcome != "done"]
    assert isinstance(loser, InvalidTransition)
    assert str(loser) == "This channel is already running."
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING
    assert channel.audience_size == 2
    assert Campaign.objects.get(pk=channel.campaign_id).status == "active"
    assert events_of(channel) == [("start", "ready", "running")]


# Each race gets a fresh channel; the runs share one test so the database is flushed once.
def test_it_serializes_pause_against_stop():
    user = UserFactory()
    for _ in range(RUNS):
        pause_against_stop(user)


def test_it_lets_exactly_one_of_two_starts_win():
    user = UserFactory()
    for _ in range(RUNS):
        start_against_start(user)
