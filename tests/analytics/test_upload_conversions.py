"""channels:upload_conversions — conversions in bulk from a list of phones or emails."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import ActivityEvent
from channels.models import Channel, Delivery
from tests.conftest import url_for
from tests.factories import ChannelFactory, ContactFactory, DeliveryFactory, build_ledger

pytestmark = pytest.mark.django_db


url_of = url_for("channels:upload_conversions")


@pytest.fixture
def channel():
    channel = ChannelFactory()
    build_ledger(
        channel,
        [(Delivery.State.DONE, "delivered")] * 3
        + [(Delivery.State.DONE, "sent", True)]
        + [(Delivery.State.SKIPPED, "")],
    )
    return channel


def deliveries(channel):
    return list(Delivery.objects.filter(channel=channel).select_related("contact").order_by("pk"))


def test_it_marks_matching_contacts_converted_and_reports(manager_client, channel):
    first, second, third, converted, skipped = deliveries(channel)
    ContactFactory(email="stranger@example.com")  # a contact, but not of this channel
    upload = SimpleUploadedFile(
        "won.csv",
        (
            "phone,email\n"
            f"{first.contact.phone.replace('+1', '(')[:4]}) {first.contact.phone[5:8]}-"
            f"{first.contact.phone[8:]},\n"
            f",{second.contact.email.upper()}\n"
            f"{converted.contact.phone},{converted.contact.email}\n"
            f"{skipped.contact.email}\n"
            "stranger@example.com\nnot a phone\n"
        ).encode(),
        content_type="text/csv",
    )
    response = manager_client.post(url_of(channel), {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.converted == 2
    assert report.already_converted == 1
    assert report.not_contacted == 1
    assert report.unknown == ["stranger@example.com"]
    assert sorted(report.ignored) == ["email", "not a phone", "phone"]
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert first.converted and second.converted and not third.converted
    assert Channel.objects.get(pk=channel.pk).converted == 3
    assert ActivityEvent.objects.filter(action="convert", channel=channel).count() == 1
    html = response.content.decode()
    assert "<strong>2</strong> marked converted" in html
    # The page's figure counts what was just marked, not what was there before.
    assert "3 converted so far" in html
    assert "<strong>3</strong> cells ignored" in html


def test_it_counts_one_ignored_cell_in_the_singular(manager_client, channel):
    first = deliveries(channel)[0]
    response = manager_client.post(url_of(channel), {"addresses": f"{first.contact.email}\nnope"})
    html = response.content.decode()
    assert "<strong>1</strong> cell ignored" in html and "cells ignored" not in html
    assert "2 converted so far" in html


def test_it_never_counts_twice(manager_client, channel):
    first = deliveries(channel)[0]
    for _ in range(2):
        manager_client.post(url_of(channel), {"addresses": first.contact.email})
    channel.refresh_from_db()
    assert channel.converted == 2  # the one converted by the provider, and this one
    assert channel.converted == Delivery.objects.filter(channel=channel, converted=True).count()


def test_it_matches_only_this_channels_deliveries(manager_client, channel):
    first = deliveries(channel)[0]
    other = ChannelFactory(campaign=channel.campaign, kind=Channel.Kind.EMAIL)
    theirs = DeliveryFactory(channel=other, contact=first.contact)
    manager_client.post(url_of(channel), {"addresses": first.contact.phone})
    theirs.refresh_from_db()
    assert not theirs.converted


def test_it_asks_for_something_to_read(manager_client, channel):
    response = manager_client.post(url_of(channel), {"addresses": "  "})
    assert response.status_code == 400
    assert "Upload a file or paste" in response.content.decode()


def test_it_shows_the_form(manager_client, channel):
    response = manager_client.get(url_of(channel))
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_it_refuses_on_an_archived_campaign(manager_client):
    channel = ChannelFactory()
    build_ledger(channel, [(Delivery.State.DONE, "delivered")])
    from tests.factories import put_channel_in

    put_channel_in(channel, Channel.Status.COMPLETED)
    channel.campaign.refresh_status()
    channel.campaign.archive()
    response = manager_client.post(url_of(channel), {"addresses": "x@example.com"})
    assert response.status_code == 409


def test_it_refuses_viewers(viewer_client, channel):
    first = deliveries(channel)[0]
    response = viewer_client.post(url_of(channel), {"addresses": first.contact.email})
    assert response.status_code == 403
    assert Channel.objects.get(pk=channel.pk).converted == 1


def test_it_answers_404_for_a_missing_channel(manager_client):
    assert manager_client.get("/channels/999999/conversions/").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a@example.com\rb@example.com\r", "old Macintosh line endings"),
        (b"a@example.com\nb@example.com\rc@example.com\n", "old Macintosh line endings"),
        (b"PK\x03\x04\x14\x00\x06\x00workbook", "looks like an Excel workbook"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "it holds binary data"),
        (b"a@example.com\n" + b"x" * 200_000 + b"\n", "field larger than field limit"),
        ("a@example.com\nb@example.com\n".encode("utf-16"), "in UTF-16"),
    ],
)
def test_it_refuses_an_unreadable_file_and_marks_nothing(manager_client, channel, data, message):
    response = manager_client.post(url_of(channel), {"file": SimpleUploadedFile("won.csv", data)})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Nothing was marked converted." in html
    assert Channel.objects.get(pk=channel.pk).converted == 1
    assert not ActivityEvent.objects.filter(action="convert").exists()


def test_it_refuses_a_file_over_the_cap(manager_client, channel, settings):
    settings.HERALD_MAX_CONVERSIONS_BYTES = 1000
    first = deliveries(channel)[0]
    data = (first.contact.email + "\n").encode() * 100
    response = manager_client.post(url_of(channel), {"file": SimpleUploadedFile("won.csv", data)})
    assert response.status_code == 400
    assert "Herald takes files of up to 1000\xa0bytes" in response.content.decode()
    assert Channel.objects.get(pk=channel.pk).converted == 1
