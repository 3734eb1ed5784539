"""bench.pages.deliveries_table_figures: the deliveries table figure of `make bench`, run small."""

import re

import pytest
from django.utils import timezone

from bench.data import cycled_times, insert_contacts, insert_deliveries, new_channel
from bench.pages import deliveries_table_figures, page_cursor
from campaigns.models import ContactList
from channels.deliveries import PAGE_SIZE
from channels.models import Channel

pytestmark = pytest.mark.django_db


def test_it_times_a_deep_page_against_the_first(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    contact_list = ContactList.objects.create(name="bench")
    insert_contacts(contact_list, 600)
    (row,) = deliveries_table_figures(contact_list, deliveries=600, page=2, repeats=1)
    assert row["figure"] == "deliveries table, page 2 of a 600-row channel vs page 1"
    assert row["target"] == "≤ 1.3"
    assert "unfiltered:" in row["measured"] and "?outcome=undelivered:" in row["measured"]
    # A deep page reads as many queries as the first, under each filter.
    counts = re.findall(r"\((\d+) queries\) vs [\d.]+ ms \((\d+)\)", row["measured"])
    assert len(counts) == 2 and all(deep == top for deep, top in counts)
    channel = Channel.objects.get(name="bench deliveries")
    assert channel.deliveries.count() == 600
    assert channel.deliveries.filter(outcome="undelivered").count() == 120


def test_the_cursor_is_the_last_row_of_the_page_before():
    contact_list = ContactList.objects.create(name="bench")
    first, last = insert_contacts(contact_list, 3 * PAGE_SIZE)
    channel = new_channel(contact_list)
    insert_deliveries(
        channel, contacts=(first, last), at=cycled_times([timezone.now()]), outcomes=("a", "b")
    )
    newest_first = channel.deliveries.order_by("-pk")
    ids = list(newest_first.values_list("pk", flat=True))
    assert page_cursor(channel, page=3) == ids[2 * PAGE_SIZE - 1]
    b_ids = list(newest_first.filter(outcome="b").values_list("pk", flat=True))
    assert page_cursor(channel, page=2, outcome="b") == b_ids[PAGE_SIZE - 1]
