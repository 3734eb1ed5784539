"""A test send from the channel forms (`channels:test_send`, `campaigns:test_send`), SPEC 4a.

It renders the form's content as it stands for a contact of the list and sends it through
the configured provider to the address typed, and records nothing.
"""

import pytest
from django.forms.models import model_to_dict

from channels.models import Channel, Delivery
from channels.providers import reset_providers, simulated_webhooks
from tests.conftest import HTMX, url_for
from tests.factories import ChannelFactory, ContactFactory, MembershipFactory
from tests.providers import RecordingProvider

pytestmark = pytest.mark.django_db

send_url = url_for("channels:test_send")
send_new_url = url_for("campaigns:test_send")
edit_url = url_for("channels:edit")
add_url = url_for("campaigns:add_channel")
PHONE = "+12025550143"


@pytest.fixture
def recording(use_provider):
    use_provider("tests.providers.ConfiguredProvider")
    RecordingProvider.reset()
    yield RecordingProvider.sent
    RecordingProvider.reset()


@pytest.fixture
def channel(db):
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Texts", sms_template="Hi {first_name}")
    MembershipFactory(
        contact_list=channel.campaign.contact_list,
        contact=ContactFactory(name="Ann Lee", email="ann@example.org"),
    )
    MembershipFactory(
        contact_list=channel.campaign.contact_list,
        contact=ContactFactory(name="Bob Ray", email="bob@example.org"),
    )
    return channel


def form_data(channel: Channel, **changes) -> dict:
    data = {
        "kind": channel.kind,
        "name": channel.name,
        "sms_template": channel.sms_template,
        "sms_sender": channel.sms_sender,
        "email_subject": channel.email_subject,
        "email_body": channel.email_body,
        "email_from": channel.email_from,
        "max_per_second": channel.max_per_second,
        "test-to": "(202) 555-0143",
    }
    return {**data, **changes}


def row(channel: Channel) -> dict:
    return model_to_dict(Channel.objects.get(pk=channel.pk))


def test_it_sends_the_unsaved_content_to_the_address_typed(manager_client, channel, recording):
    before = row(channel)
    response = manager_client.post(
        send_url(channel), form_data(channel, sms_template="Hello {first_name}, new text")
    )
    assert response.status_code == 200
    assert f"Sent to {PHONE}: accepted by configured (id cfg-42)." in response.content.decode()
    [message] = recording
    assert message.delivery_id is None
    assert message.to == PHONE
    assert message.kind == "sms"
    assert message.content["text"] == "Hello Ann, new text"  # the list's first contact
    # The ledger is untouched: no delivery, the channel row as it was (content not saved).
    assert Delivery.objects.count() == 0
    assert row(channel) == before


def test_it_answers_htmx_with_the_result_line_only(manager_client, channel, recording):
    response = manager_client.post(send_url(channel), form_data(channel), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "accepted by configured" in html
    assert "<form" not in html and "<html" not in html


def test_it_renders_for_the_contact_picked(manager_client, channel, recording):
    bob = channel.campaign.contact_list.contacts.get(name="Bob Ray")
    manager_client.post(send_url(channel), form_data(channel, **{"test-contact": bob.pk}))
    assert recording[-1].content["text"] == "Hi Bob"
    manager_client.post(
        send_url(channel), form_data(channel, **{"test-lookup": "BOB@example.org"})
    )
    assert recording[-1].content["text"] == "Hi Bob"
    manager_client.post(send_url(channel), form_data(channel, **{"test-lookup": str(bob.pk)}))
    assert recording[-1].content["text"] == "Hi Bob"
    assert recording[-1].contact_id == bob.pk


def test_it_refuses_a_contact_outside_the_list(manager_client, channel, recording):
    stranger = ContactFactory(email="stranger@example.org")
    data = form_data(channel, **{"test-lookup": stranger.email})
    response = manager_client.post(send_url(channel), data)
    assert response.status_code == 400
    assert "No contact of the campaign&#x27;s list matches." in response.content.decode()
    assert recording == []


def test_it_refuses_a_bad_number_and_sends_nothing(manager_client, channel, recording):
    response = manager_client.post(send_url(channel), form_data(channel, **{"test-to": "12ab"}))
    assert response.status_code == 400
    assert "is not a phone number" in response.content.decode()
    assert recording == []


def test_it_refuses_a_bad_email_address(manager_client, channel, recording):
    channel.kind = Channel.Kind.EMAIL
    channel.save()
    data = form_data(channel, **{"test-to": "not-an-address"})
    response = manager_client.post(send_url(channel), data, headers=HTMX)
    assert response.status_code == 400
    assert "“not-an-address” is not an email address." in response.content.decode()
    assert recording == []
    response = manager_client.post(send_url(channel), {**data, "test-to": "me@example.org"})
    assert response.status_code == 200
    assert recording[0].content["subject"] == "News for Ann"


def test_it_refuses_content_the_form_refuses(manager_client, channel, recording):
    response = manager_client.post(send_url(channel), form_data(channel, sms_template=""))
    assert response.status_code == 400
    assert "Not sent." in response.content.decode()
    assert recording == []


def test_it_shows_the_providers_error(manager_client, channel, use_provider):
    use_provider("tests.providers.RefusingProvider")
    response = manager_client.post(send_url(channel), form_data(channel))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Not sent to {PHONE}: refusing answered: gateway refused {PHONE}" in html


def test_it_sends_from_the_form_that_adds_a_channel(manager_client, channel, recording):
    data = form_data(channel, name="Not added", sms_template="New {name}")
    response = manager_client.post(send_new_url(channel.campaign), data)
    assert response.status_code == 200
    assert recording[0].content["text"] == "New Ann Lee"
    assert recording[0].channel_id == 0
    assert not Channel.objects.filter(name="Not added").exists()


def test_it_calls_no_simulated_webhook_back(manager_client, channel, settings):
    reset_providers()  # the simulator, with its outcome delay
    response = manager_client.post(send_url(channel), form_data(channel))
    assert response.status_code == 200
    assert ", says simulated (id " in response.content.decode()
    assert simulated_webhooks.due == []
    assert Delivery.objects.count() == 0


def test_it_shows_the_form_to_managers(manager_client, channel):
    for url in (edit_url(channel), add_url(channel.campaign)):
        html = manager_client.get(url).content.decode()
        assert '<h3 class="tools-heading">Test send</h3>' in html
        assert "Ann Lee" in html


def test_it_is_403_for_a_viewer(viewer_client, channel, recording):
    assert viewer_client.post(send_url(channel), form_data(channel)).status_code == 403
    assert (
        viewer_client.post(send_new_url(channel.campaign), form_data(channel)).status_code == 403
    )
    response = viewer_client.get(edit_url(channel))
    assert response.status_code == 403
    assert "Test send" not in response.content.decode()
    assert recording == []


def test_it_refuses_a_get(manager_client, channel):
    assert manager_client.get(send_url(channel)).status_code == 405
    assert manager_client.get(send_new_url(channel.campaign)).status_code == 405


def test_it_is_404_for_a_missing_channel(manager_client):
    assert manager_client.post(send_url(999), {}).status_code == 404


def test_it_sends_a_test_email_whose_unsubscribe_link_opts_out_nobody(
    manager_client, use_provider
):
    from campaigns.models import ConsentChange
    from channels.providers.base import Outgoing
    from channels.providers.email import build_email

    contact = ContactFactory(email="ann@example.com")
    message = build_email(
        Outgoing(
            delivery_id=None,
            channel_id=1,
            contact_id=contact.pk,
            kind="email",
            to="manager@example.com",
            content={"subject": "Hi", "body": "Hello", "from": "news@example.com"},
        )
    )
    header = message.extra_headers["List-Unsubscribe"]
    token = header.split("/unsubscribe/")[1].split("/")[0]
    response = manager_client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    contact.refresh_from_db()
    assert not contact.opted_out_email
    assert response.status_code == 200
    assert not ConsentChange.objects.exists()


def test_it_sends_nothing_for_an_empty_list(manager_client, recording):
    channel = ChannelFactory(kind=Channel.Kind.SMS, sms_template="Hi")
    response = manager_client.post(send_url(channel), form_data(channel), headers=HTMX)
    assert response.status_code == 400
    assert "The campaign&#x27;s list has no contact to render the content for." in (
        response.content.decode()
    )
    assert recording == []
