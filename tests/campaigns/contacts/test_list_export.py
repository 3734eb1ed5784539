"""Exporting a contact list as CSV."""

import csv
import io

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, ContactListFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_it_exports_the_list_as_neutralised_streamed_csv(viewer_client):
    contact_list = ContactListFactory()
    MembershipFactory(
        contact_list=contact_list,
        contact=ContactFactory(
            name='=HYPERLINK("http://evil")',
            phone="+12025550101",
            email="a@example.com",
            attributes={"city": "@Paris"},
            opted_out_sms=True,
        ),
    )
    MembershipFactory(
        contact_list=contact_list,
        contact=ContactFactory(
            name="Bob", phone="", email="b@example.com", attributes={"tier": "-1"}
        ),
    )
    response = viewer_client.get(reverse("contacts:list_export", args=[contact_list.pk]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["name", "phone", "email", "timezone", "opted_out", "city", "tier"],
        [
            '\'=HYPERLINK("http://evil")',
            "'+12025550101",
            "a@example.com",
            "",
            "sms",
            "'@Paris",
            "",
        ],
        ["Bob", "", "b@example.com", "", "", "", "'-1"],
    ]


def test_it_writes_every_opt_out_with_the_words_the_importer_reads(viewer_client):
    contact_list = ContactListFactory()
    MembershipFactory(
        contact_list=contact_list,
        contact=ContactFactory(opted_out_voice=True, opted_out_sms=True, opted_out_email=True),
    )
    response = viewer_client.get(reverse("contacts:list_export", args=[contact_list.pk]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.DictReader(io.StringIO(text)))[0]["opted_out"] == "voice, sms, email"


def test_it_is_404_for_a_missing_list(viewer_client):
    assert viewer_client.get(reverse("contacts:list_export", args=[999])).status_code == 404
