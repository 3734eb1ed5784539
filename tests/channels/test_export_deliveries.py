"""GET channels:export_deliveries — the CSV of exactly what the table's filters select."""

import csv
import io

import pytest

from channels.deliveries import PAGE_SIZE
from channels.models import Channel, Delivery
from tests.conftest import url_for
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    DeliveryFactory,
    UserFactory,
    build_ledger,
)

pytestmark = pytest.mark.django_db

url_of = url_for("channels:export_deliveries")


def rows_of(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_it_exports_every_filtered_row_not_only_one_page(viewer_client):
    channel = ChannelFactory(kind=Channel.Kind.AI_VOICE)
    rows = [(Delivery.State.DONE, "no_answer")] * (PAGE_SIZE + 5)
    rows += [(Delivery.State.DONE, "answered")] * 4
    build_ledger(channel, rows)
    build_ledger(ChannelFactory(kind=Channel.Kind.AI_VOICE), [(Delivery.State.DONE, "no_answer")])
    response = viewer_client.get(url_of(channel), {"outcome": "no_answer", "after": "3"})
    assert response.status_code == 200
    assert f"channel-{channel.pk}-deliveries.csv" in response["Content-Disposition"]
    exported = rows_of(response)
    assert exported[0][:3] == ["contact name", "phone", "email"]
    # The cursor is not a filter: every no_answer row of this channel, none of the other's.
    assert len(exported) == 1 + PAGE_SIZE + 5
    assert {row[6] for row in exported[1:]} == {"No answer"}  # labels, as in every results CSV


def test_it_exports_the_contacts_a_search_finds(viewer_client):
    channel = ChannelFactory()
    ana = ContactFactory(name="Ana Lopez")
    DeliveryFactory(channel=channel, contact=ana)
    DeliveryFactory(channel=channel, contact=ContactFactory(name="Bob"))
    exported = rows_of(viewer_client.get(url_of(channel), {"q": "lopez"}))
    assert [row[0] for row in exported[1:]] == ["Ana Lopez"]


def test_it_ignores_a_bad_filter(viewer_client):
    channel = ChannelFactory()
    build_ledger(channel, [(Delivery.State.DONE, "delivered")] * 2)
    response = viewer_client.get(url_of(channel), {"state": "lost", "outcome": "\x00"})
    assert response.status_code == 200
    assert len(rows_of(response)) == 3


def test_it_refuses_a_user_without_the_view_permission(client):
    client.force_login(UserFactory())
    assert client.get(url_of(ChannelFactory())).status_code == 403


def test_it_answers_404_for_a_missing_channel(viewer_client):
    assert viewer_client.get(url_of(999_999)).status_code == 404


def test_it_refuses_post(viewer_client):
    assert viewer_client.post(url_of(ChannelFactory())).status_code == 405
