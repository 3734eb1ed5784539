"""Events for a channel whose row another transaction holds do not wait for it (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection, transaction

from channels import dispatch, events
from channels.models import Channel, CounterDelta, Delivery
from tests.channels.test_events import (
    accepted_channel,
    counters,
    ledger_counters,
    report,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def hold_channel_row(channel_id: int, locked: threading.Event, release: threading.Event):
    with transaction.atomic():
        # As the engine locks a channel (FOR NO KEY UPDATE), for a claim or an answer.
        Channel.objects.select_for_update(no_key=True).get(pk=channel_id)
        locked.set()
        release.wait(timeout=30)
    connection.close()


def test_an_event_does_not_queue_on_a_busy_channel_row(accepting):
    channel = accepted_channel(size=3)
    delivery = Delivery.objects.filter(channel=channel).first()
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_channel_row, args=(channel.pk, locked, release))
    holder.start()
    try:
        assert locked.wait(timeout=10)
        began = time.monotonic()
        assert events.ingest(report(delivery, "delivered")) == "applied"
        waited = time.monotonic() - began
        # It did not wait for the holder; what it changed waits as a delta.
        assert waited < 5
        assert CounterDelta.objects.filter(channel=channel).count() == 1
        delivery.refresh_from_db()
        assert delivery.state == Delivery.State.DONE
    finally:
        release.set()
        holder.join()
    assert events.fold(channel_id=channel.pk) == 1
    assert not CounterDelta.objects.exists()
    assert counters(channel) == ledger_counters(channel)
    assert channel.processed == 1 and channel.in_flight == 2


def test_the_supervisor_folds_what_events_left_and_completes(accepting):
    channel = accepted_channel(size=2)
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_channel_row, args=(channel.pk, locked, release))
    holder.start()
    try:
        assert locked.wait(timeout=10)
        for delivery in Delivery.objects.filter(channel=channel):
            events.ingest(report(delivery, "delivered"))
    finally:
        release.set()
        holder.join()
    dispatch.supervise(token="test")
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED
    assert counters(channel) == ledger_counters(channel)


def test_concurrent_events_for_one_channel_all_count(accepting):
    channel = accepted_channel(size=40)
    deliveries = list(Delivery.objects.filter(channel=channel))

    def post(part):
        for delivery in part:
            events.ingest(report(delivery, "delivered"))
        connection.close()

    threads = [threading.Thread(target=post, args=(deliveries[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events.fold(channel_id=channel.pk)
    dispatch.complete_if_done(channel_id=channel.pk)
    channel.refresh_from_db()
    assert counters(channel) == ledger_counters(channel)
    assert channel.processed == 40 and channel.status == Channel.Status.COMPLETED
