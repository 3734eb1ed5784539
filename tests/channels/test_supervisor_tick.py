"""The supervisor's tick locks only the channels that have something to fold, sweep or
close: with many channels running, a lock per channel per tick kept a worker busy."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels import dispatch, supervisor
from channels.models import Channel, CounterDelta, Delivery
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def started_channel(size: int = 3, **fields) -> Channel:
    contact_list = ContactListFactory(size=size)
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=contact_list), **fields)
    channel.start()
    return Channel.objects.get(pk=channel.pk)


def claim_all(channel: Channel) -> None:
    dispatch.claim_batch(
        channel_id=channel.pk, generation=channel.dispatch_generation, limit=channel.audience_size
    )


@pytest.fixture
def locked(monkeypatch):
    """The channels each locking step of the tick was called for."""
    calls: dict[str, list[int]] = {"fold": [], "sweep": [], "close": []}
    for name, step in [
        ("fold", supervisor.events.fold),
        ("sweep", supervisor.sweep_expired),
        ("close", supervisor.close_overdue),
    ]:

        def spy(*, channel_id, step=step, name=name):
            calls[name].append(channel_id)
            return step(channel_id=channel_id)

        target = supervisor.events if name == "fold" else supervisor
        attribute = {"fold": "fold", "sweep": "sweep_expired", "close": "close_overdue"}[name]
        monkeypatch.setattr(target, attribute, spy)
    return calls


def test_it_locks_only_channels_with_work_and_does_that_work(fast_engine, locked):
    quiet, stranded, overdue, folding = (started_channel() for _ in range(4))
    for channel in (stranded, overdue):
        claim_all(channel)
    past = timezone.now() - timedelta(seconds=1)
    Delivery.objects.filter(channel=stranded).update(lease_expires_at=past)
    Delivery.objects.filter(channel=overdue).update(
        state=Delivery.State.ACCEPTED, outcome="sent", lease_expires_at=past
    )
    CounterDelta.objects.create(channel=folding, converted=1)

    supervisor.supervise(token="tick")

    assert locked == {"fold": [folding.pk], "sweep": [stranded.pk], "close": [overdue.pk]}
    assert set(Delivery.objects.filter(channel=stranded).values_list("state", flat=True)) == {
        Delivery.State.INTERRUPTED
    }
    assert set(Delivery.objects.filter(channel=overdue).values_list("state", flat=True)) == {
        Delivery.State.DONE
    }
    assert not CounterDelta.objects.exists()
    folding.refresh_from_db()
    assert folding.converted == 1
    quiet.refresh_from_db()
    assert quiet.status == Channel.Status.RUNNING


def test_it_leaves_claims_whose_lease_runs_on(fast_engine, locked):
    channel = started_channel()
    claim_all(channel)
    supervisor.supervise(token="tick")
    assert locked["sweep"] == []
    assert set(Delivery.objects.filter(channel=channel).values_list("state", flat=True)) == {
        Delivery.State.SENDING
    }


def tick_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        supervisor.supervise(token="tick")
    return len(queries)


def test_a_quiet_tick_runs_as_many_queries_for_six_channels_as_for_two(fast_engine):
    # One lane each (paced at 10/s), alive: its claim just beat.
    running = [started_channel(max_per_second=10) for _ in range(2)]
    for channel in running:
        claim_all(channel)  # in flight: running, nothing to complete
    tick_queries()  # the first tick makes the supervisor's lease
    two = tick_queries()
    more = [started_channel(max_per_second=10) for _ in range(4)]
    for channel in more:
        claim_all(channel)
    assert tick_queries() == two


def test_a_tick_completes_a_finished_channel_and_wakes_one_that_lost_its_lane(fast_engine):
    done, lost = started_channel(), started_channel()
    Channel.objects.filter(pk=done.pk).update(processed=done.audience_size)
    Delivery.objects.bulk_create(
        Delivery(channel=done, contact_id=contact_id, state=Delivery.State.DONE)
        for contact_id in done.audience_contact_ids().values_list("contact_id", flat=True)
    )
    Channel.objects.filter(pk=lost.pk).update(lane_heartbeats={"0": 0})
    supervisor.supervise(token="tick")
    done.refresh_from_db()
    assert done.status == Channel.Status.COMPLETED
    woken = Channel.objects.get(pk=lost.pk)
    assert woken.dispatch_generation == lost.dispatch_generation + 1
    assert woken.status == Channel.Status.RUNNING
