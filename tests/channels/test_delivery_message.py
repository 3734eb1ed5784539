"""GET channels:delivery — one delivery's message (or call), opened from the table."""

import pytest

from channels.models import Channel, Delivery, ProviderEvent
from tests.conftest import HTMX, url_for
from tests.factories import ChannelFactory, ContactFactory, DeliveryFactory, UserFactory

pytestmark = pytest.mark.django_db

url_of = url_for("channels:delivery")


def test_it_renders_the_message_for_this_contact(viewer_client):
    channel = ChannelFactory(sms_template="Hi {first_name}, your code is {code}.")
    contact = ContactFactory(name="Zoë Park", attributes={"code": "<b>A1</b>"})
    delivery = DeliveryFactory(channel=channel, contact=contact, provider_id="SM1")
    ProviderEvent.objects.create(
        provider="twilio", event_id="e1", delivery=delivery, status="delivered"
    )
    response = viewer_client.get(url_of(delivery))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hi Zoë, your code is &lt;b&gt;A1&lt;/b&gt;." in html
    assert "twilio: delivered" in html
    assert "Mark converted" not in html  # a viewer changes nothing


def test_it_shows_a_calls_summary_and_transcript(viewer_client):
    channel = ChannelFactory(kind=Channel.Kind.AI_VOICE)
    details = {
        "duration_seconds": 75,
        "summary": "Wants a callback on Friday.",
        "transcript": [
            {"role": "assistant", "message": "Hello Ana"},
            {"role": "user", "message": "Call me Friday"},
        ],
        "recording_url": "javascript:alert(1)",
    }
    delivery = DeliveryFactory(channel=channel, outcome="answered", details=details)
    html = viewer_client.get(url_of(delivery), headers=HTMX).content.decode()
    assert "Wants a callback on Friday." in html
    assert "assistant: Hello Ana<br>user: Call me Friday" in html
    assert "1 min 15 s" in html
    assert "javascript:" not in html  # only http(s) recordings become links
    assert "<html" not in html and f'id="delivery-{delivery.pk}-message"' in html


def test_it_offers_mark_converted_to_a_manager(manager_client):
    delivery = DeliveryFactory()
    html = manager_client.get(url_of(delivery)).content.decode()
    assert f'<form id="delivery-{delivery.pk}-conversion"' in html


def test_it_reads_a_fixed_number_of_queries(viewer_client, django_assert_num_queries):
    delivery = DeliveryFactory()
    viewer_client.get(url_of(delivery))
    # Session, user, permissions (2), the delivery with its channel and contact, its events.
    with django_assert_num_queries(6):
        viewer_client.get(url_of(delivery), headers=HTMX)


def test_it_refuses_a_user_without_the_view_permission(client):
    client.force_login(UserFactory())
    assert client.get(url_of(DeliveryFactory())).status_code == 403


def test_it_answers_404_for_a_missing_delivery(viewer_client):
    assert viewer_client.get(url_of(999_999)).status_code == 404


def test_it_refuses_post(manager_client):
    delivery = DeliveryFactory()
    assert manager_client.post(url_of(delivery)).status_code == 405
    assert not Delivery.objects.get(pk=delivery.pk).converted
