"""A paced channel costs one claim per window: a slice whose claim filled the one-second
window goes on when it has room, and a slow-paced channel runs one lane, not two."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from channels import dispatch, supervisor
from channels.models import Channel, Delivery
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def started_channel(size: int, **fields) -> Channel:
    contact_list = ContactListFactory(size=size)
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=contact_list), **fields)
    channel.start()
    return Channel.objects.get(pk=channel.pk)


def count_claims(monkeypatch) -> list[int]:
    claims = []
    real = dispatch.claim_batch

    def counting(**kwargs):
        claim = real(**kwargs)
        claims.append(len(claim.to_send))
        return claim

    monkeypatch.setattr(dispatch, "claim_batch", counting)
    return claims


def test_a_slice_that_fills_the_window_ends_without_claiming_again(fast_engine, monkeypatch):
    channel = started_channel(size=20, max_per_second=5)
    claims = count_claims(monkeypatch)
    then = dispatch.run_slice(channel_id=channel.pk, generation=channel.dispatch_generation)
    assert claims == [5]
    assert 0.9 < then <= 1.0  # the window has room again a second after the claim
    assert Delivery.objects.filter(channel=channel).count() == 5

    # At once again: the window is full, so the slice waits out the rest of the second.
    then = dispatch.run_slice(channel_id=channel.pk, generation=channel.dispatch_generation)
    assert claims == [5, 0]
    assert 0 < then <= 1.0
    assert Delivery.objects.filter(channel=channel).count() == 5


def test_a_slice_whose_claim_left_room_claims_again(fast_engine, monkeypatch):
    channel = started_channel(size=3, max_per_second=5)
    claims = count_claims(monkeypatch)
    then = dispatch.run_slice(channel_id=channel.pk, generation=channel.dispatch_generation)
    assert claims == [3, 0]  # the second finds the audience exhausted
    assert then is None
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED


@pytest.mark.parametrize(("pace", "lanes"), [(10, 1), (supervisor.SINGLE_LANE_PACE, 1), (1000, 2)])
def test_wake_starts_one_lane_for_a_slow_pace(fast_engine, pace, lanes):
    channel = started_channel(size=5, max_per_second=pace)
    DBTaskResult.objects.all().delete()
    supervisor.wake(channel_id=channel.pk)
    slices = DBTaskResult.objects.filter(task_path="channels.tasks.dispatch_channel")
    assert sorted(task.args_kwargs["args"][2] for task in slices) == list(range(lanes))
    # Only lane 0 ever claimed: a lane the channel does not have is never "lost".
    Channel.objects.filter(pk=channel.pk).update(lane_heartbeats={"0": time.time()})
    assert supervisor.lost_lanes(channel.pk) == [str(lane) for lane in range(1, lanes)]


def test_a_claim_over_contacts_that_have_deliveries_neither_sends_nor_counts_them(fast_engine):
    channel = started_channel(size=6, max_per_second=1000)
    first = dispatch.claim_batch(
        channel_id=channel.pk, generation=channel.dispatch_generation, limit=4
    )
    # The cursor walks back over the audience (as try_complete does when it finds a gap).
    Channel.objects.filter(pk=channel.pk).update(claim_cursor=0)
    again = dispatch.claim_batch(
        channel_id=channel.pk, generation=channel.dispatch_generation, limit=6
    )
    assert len(first.to_send) == 4
    assert len(again.to_send) == 2
    assert not {m.contact_id for m in first.to_send} & {m.contact_id for m in again.to_send}
    assert Delivery.objects.filter(channel=channel).count() == 6
    channel.refresh_from_db()
    assert channel.in_flight == 6 and channel.processed == 0


def ledger_counts(channel: Channel, limit: int) -> int:
    """How many of a claim's queries count the channel's recent claims in the ledger."""
    with CaptureQueriesContext(connection) as queries:
        dispatch.claim_batch(
            channel_id=channel.pk, generation=channel.dispatch_generation, limit=limit
        )
    return sum('COUNT("channels_delivery"."id")' in query["sql"] for query in queries)


def test_a_claim_counts_the_last_second_only_when_the_pace_could_bind(fast_engine):
    unpaced = started_channel(size=10, max_per_second=1000)
    assert ledger_counts(unpaced, limit=5) == 0
    assert ledger_counts(unpaced, limit=5) == 0  # 5 so far, 995 to spare: no need to look

    paced = started_channel(size=10, max_per_second=8)
    assert ledger_counts(paced, limit=5) == 0  # nothing claimed yet
    assert ledger_counts(paced, limit=5) == 1  # 5 so far: 3 to spare may not be enough
    assert Delivery.objects.filter(channel=paced).count() == 8  # and the pace held
