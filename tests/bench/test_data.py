"""bench.data: the generators every figure builds on, run small."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bench.data import (
    cycled_times,
    insert_contacts,
    insert_deliveries,
    make_campaigns,
    new_channel,
    seconds_before_now,
)
from campaigns.models import Campaign, Contact, ContactList
from channels.models import Channel, Delivery
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db


def test_it_inserts_contiguous_contacts_after_the_existing_ones(monkeypatch):
    monkeypatch.setattr("bench.data.CONTACT_CHUNK", 7)  # several statements
    existing = ContactListFactory(size=2)
    contact_list = ContactList.objects.create(name="bench")
    first, last = insert_contacts(contact_list, 20)
    assert last - first == 19
    assert first > max(existing.memberships.values_list("contact_id", flat=True))
    assert contact_list.size == 20
    members = set(contact_list.memberships.values_list("contact_id", flat=True))
    assert members == set(range(first, last + 1))
    assert Contact.objects.get(pk=last).email == f"b{last}@example.com"
    # The sequence moved past the explicit ids: an ordinary insert does not collide.
    assert Contact.objects.create(name="After", email="after@example.com").pk > last


def test_it_writes_a_ledger_the_counters_are_recounted_from():
    contact_list = ContactList.objects.create(name="bench")
    first, last = insert_contacts(contact_list, 60)
    channel = new_channel(contact_list, kind=Channel.Kind.EMAIL)
    started = timezone.now() - timedelta(hours=1)
    times = [started, started + timedelta(minutes=5)]
    outcomes = ["delivered", "sent", "failed"]
    count = insert_deliveries(
        channel, contacts=(first, last), at=cycled_times(times), outcomes=outcomes
    )
    assert count == 60
    channel.refresh_from_db()
    assert channel.processed == 60
    assert channel.outcome_counts == {"delivered": 20, "sent": 20, "failed": 20}
    assert channel.converted == sum(1 for i in range(first, last + 1) if i % 25 == 0)
    failed = Delivery.objects.filter(channel=channel, state=Delivery.State.FAILED)
    assert set(failed.values_list("outcome", flat=True)) == {"failed"}
    assert set(Delivery.objects.values_list("created_at", flat=True)) == set(times)
    assert channel.max_per_second == 10_000_000  # unpaced unless asked


@pytest.mark.postgres
def test_it_spreads_deliveries_over_the_last_seconds_on_postgresql():
    contact_list = ContactList.objects.create(name="bench")
    first, last = insert_contacts(contact_list, 30)
    channel = new_channel(contact_list)
    insert_deliveries(channel, contacts=(first, last), at=seconds_before_now(10))
    channel.refresh_from_db()
    assert channel.outcome_counts == {"delivered": 30}
    times = list(Delivery.objects.values_list("created_at", flat=True))
    newest = max(times)
    assert {(newest - at).total_seconds() for at in times} == set(range(10))


def test_it_makes_campaigns_in_every_status_with_two_channels_each():
    make_campaigns(ContactList.objects.create(name="bench"), 8)
    assert Campaign.objects.count() == 8 and Channel.objects.count() == 16
    assert {s: Campaign.objects.filter(status=s).count() for s in Campaign.Status} == {
        "draft": 2,
        "active": 2,
        "completed": 2,
        "archived": 2,
    }


def test_it_makes_campaigns_numbered_from_first_in_the_statuses_asked():
    make_campaigns(ContactList.objects.create(name="bench"), 5, statuses=["active"], first=1000)
    names = set(Campaign.objects.values_list("name", flat=True))
    assert names == {f"Bench campaign {i}" for i in range(1000, 1005)}
    assert set(Campaign.objects.values_list("status", flat=True)) == {"active"}
