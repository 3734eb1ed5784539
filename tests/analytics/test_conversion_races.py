"""Conversions marked at once from two requests are counted once (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from channels import conversions
from channels.models import Channel, Delivery
from tests.factories import ChannelFactory, build_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(*calls) -> list:
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_it_counts_one_conversion_marked_twice_at_once_once():
    channel = ChannelFactory()
    for _ in range(10):
        (delivery,) = build_ledger(channel, [(Delivery.State.DONE, "delivered")])

        def mark(pk=delivery.pk):
            return conversions.mark_converted(delivery=Delivery.objects.get(pk=pk))

        assert sorted(at_once(mark, mark)) == [False, True]
    channel.refresh_from_db()
    assert channel.converted == 10 == Delivery.objects.filter(converted=True).count()


def test_it_counts_an_upload_racing_a_single_mark_once():
    channel = ChannelFactory()
    deliveries = build_ledger(channel, [(Delivery.State.DONE, "delivered")] * 20)
    emails = "\n".join(d.contact.email for d in deliveries)
    first = deliveries[0].pk
    results = at_once(
        lambda: conversions.mark_converted_from_list(
            channel=channel, addresses=conversions.read_addresses(emails)
        ),
        lambda: conversions.mark_converted(delivery=Delivery.objects.get(pk=first)),
    )
    report, single = results
    assert report.converted + int(single) == 20
    assert report.already_converted == (0 if not single else 1)
    assert Channel.objects.get(pk=channel.pk).converted == 20
