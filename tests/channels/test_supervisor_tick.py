"""The supervisor's tick locks only the channels that have something to fold, sweep or
close: with many channels running, a lock per channel per tick kept a worker busy."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels import dispatch, supervisor
from channels.models import Channel, CounterDelta, Delivery
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def started_channel(size: int = 3) -> Channel:
    contact_list = ContactListFactory(size=size)
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=contact_list))
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
