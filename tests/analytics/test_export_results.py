"""CSV exports of a channel's and a campaign's results."""

import csv
import io

import pytest
from django.urls import reverse

from channels.models import Channel, Delivery
from tests.factories import ChannelFactory, ContactFactory, DeliveryFactory, build_ledger

pytestmark = pytest.mark.django_db

HEADER = [
    "contact name",
    "phone",
    "email",
    "channel",
    "kind",
    "state",
    "outcome",
    "converted",
    "created",
    "finished",
    "calls",
]


def rows_of(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode()), "the BOM tells Excel the file is UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_it_exports_one_row_per_delivery_of_a_channel(viewer_client):
    channel = ChannelFactory(name="Spring SMS")
    first, second = build_ledger(
        channel, [(Delivery.State.DONE, "delivered", True), (Delivery.State.SKIPPED, "")]
    )
    response = viewer_client.get(reverse("channels:export_results", args=[channel.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"channel-{channel.pk}-results.csv" in response["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0] == HEADER
    assert len(rows) == 3
    contact = first.contact
    assert rows[1][:8] == [
        contact.name,
        "'" + contact.phone,  # E.164 starts with "+": neutralised like any formula start
        contact.email,
        "Spring SMS",
        "SMS Blast",
        "Done",
        "Delivered",
        "yes",
    ]
    assert rows[1][8] == first.created_at.isoformat()
    assert rows[2][5:8] == ["Skipped", "", "no"]
    assert [rows[1][10], rows[2][10]] == ["1", "0"]


def test_it_exports_every_channel_of_a_campaign(viewer_client):
    sms = ChannelFactory()
    voice = ChannelFactory(campaign=sms.campaign, kind=Channel.Kind.AI_VOICE)
    build_ledger(sms, [(Delivery.State.DONE, "delivered")] * 2)
    build_ledger(voice, [(Delivery.State.DONE, "no_answer")] * 3)
    build_ledger(ChannelFactory(), [(Delivery.State.DONE, "delivered")])  # another campaign
    response = viewer_client.get(reverse("campaigns:export_results", args=[sms.campaign.pk]))
    rows = rows_of(response)
    assert rows[0] == HEADER
    assert sorted(row[4] for row in rows[1:]) == ["AI Voice"] * 3 + ["SMS Blast"] * 2
    assert {row[6] for row in rows[1:]} == {"No answer", "Delivered"}


def test_it_neutralises_formulas_in_contact_fields(viewer_client):
    channel = ChannelFactory(name="=HYPERLINK(1)")
    contact = ContactFactory(name="=cmd|'/c calc'!A1", email="@evil@example.com")
    DeliveryFactory(channel=channel, contact=contact)
    rows = rows_of(viewer_client.get(reverse("channels:export_results", args=[channel.pk])))
    assert rows[1][0] == "'=cmd|'/c calc'!A1"
    assert rows[1][2] == "'@evil@example.com"
    assert rows[1][3] == "'=HYPERLINK(1)"


def test_it_reads_the_ledger_in_chunks(viewer_client, monkeypatch):
    from django.db.models.query import QuerySet

    seen = []
    iterator = QuerySet.iterator

    def spy(self, chunk_size=None):
        seen.append(chunk_size)
        return iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    channel = ChannelFactory()
    build_ledger(channel, [(Delivery.State.DONE, "delivered")] * 3)
    rows = rows_of(viewer_client.get(reverse("channels:export_results", args=[channel.pk])))
    assert len(rows) == 4
    assert seen == [2000]


def test_it_needs_the_view_permission(client):
    from tests.factories import UserFactory

    channel = ChannelFactory()
    client.force_login(UserFactory())
    assert client.get(reverse("channels:export_results", args=[channel.pk])).status_code == 403
    url = reverse("campaigns:export_results", args=[channel.campaign.pk])
    assert client.get(url).status_code == 403


def test_it_answers_404_for_a_missing_channel_or_campaign(viewer_client):
    assert viewer_client.get("/channels/999999/results.csv").status_code == 404
    assert viewer_client.get("/campaigns/999999/analytics/results.csv").status_code == 404


def test_it_only_answers_get(viewer_client):
    channel = ChannelFactory()
    assert (
        viewer_client.post(reverse("channels:export_results", args=[channel.pk])).status_code
        == 405
    )
    url = reverse("campaigns:export_results", args=[channel.campaign.pk])
    assert viewer_client.post(url).status_code == 405
