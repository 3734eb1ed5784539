"""The `smtp` provider against a real SMTP server (aiosmtpd) on this machine."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from campaigns.models import ConsentChange, Contact
from channels import dispatch
from channels.models import Channel, Delivery
from channels.providers import provider_for
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def email_channel(contacts: list[Contact], **fields) -> Channel:
    contact_list = ContactListFactory()
    contact_list.add_contacts([contact.pk for contact in contacts])
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list), kind=Channel.Kind.EMAIL, **fields
    )
    channel.start()
    return channel


def unsubscribe_path(received) -> str:
    """The path of the https link in a received email's List-Unsubscribe header."""
    link = received.raw_header("List-Unsubscribe").split(",")[0].strip().strip("<>")
    url = urlsplit(link)
    assert url.scheme == "https" and url.netloc == "herald.example.com"
    return url.path


def run(channel: Channel) -> Channel:
    return dispatch.run_until_idle(channel_id=channel.pk, timeout=30)


@pytest.fixture
def smtp(smtp_server, email_provider):
    email_provider("smtp")
    return smtp_server


def test_it_delivers_one_email_with_its_headers_and_both_parts(smtp):
    zoe = ContactFactory(name="Zoë Ålund", email="zoe@example.com")
    channel = email_channel(
        [zoe],
        email_subject="Frühling ☀ {first_name}",
        email_body=(
            "<p>Hallo {first_name},</p>"
            '<p>read <a href="https://example.com/news">the news</a>.</p>'
        ),
        email_from="news@example.org",
    )
    channel = run(channel)

    assert channel.status == Channel.Status.COMPLETED
    delivery = Delivery.objects.get(channel=channel)
    assert (delivery.state, delivery.outcome) == (Delivery.State.DONE, "sent")
    [received] = smtp.received
    assert received.rcpt_tos == ["zoe@example.com"]
    assert received.mail_from == "news@example.org"
    message = received.message
    assert message["Subject"] == "Frühling ☀ Zoë"
    assert received.raw_header("Subject").startswith("=?utf-8?")  # encoded on the wire
    assert message["From"] == "news@example.org"
    assert message["To"].addresses[0].display_name == "Zoë Ålund"
    assert message["To"].addresses[0].addr_spec == "zoe@example.com"
    assert message["Message-ID"] == delivery.provider_id
    assert delivery.provider_id.startswith("<") and delivery.provider_id.endswith("@example.org>")
    # One-click unsubscribe (RFC 8058), the link readable as it travelled: never RFC 2047.
    unsubscribe = received.raw_header("List-Unsubscribe")
    assert unsubscribe.startswith("<https://herald.example.com/unsubscribe/")
    assert unsubscribe.endswith(", <mailto:unsubscribe@herald.example.com?subject=unsubscribe>")
    assert received.raw_header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    # A plain-text part derived from the HTML, and the HTML itself.
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hallo Zoë," in plain and "the news (https://example.com/news)" in plain
    assert "<" not in plain
    assert html.strip().startswith("<p>Hallo Zoë,</p>")


def test_a_plain_text_body_goes_alone_and_contact_values_cannot_inject_html(smtp):
    ana = ContactFactory(name="Ana <b>Bold</b>", email="ana@example.com")
    bob = ContactFactory(name="Bob", email="bob@example.com")
    plain_channel = run(email_channel([bob], email_body="Dear {name}, no tags here."))
    html_channel = run(email_channel([ana], email_body="<p>Dear {name}</p>"))
    assert plain_channel.status == html_channel.status == Channel.Status.COMPLETED

    [to_bob] = smtp.to("bob@example.com")
    assert to_bob.message.get_content_type() == "text/plain"
    assert to_bob.message.get_content().strip() == "Dear Bob, no tags here."
    assert to_bob.message["From"] == "Herald <herald@example.com>"  # DEFAULT_FROM_EMAIL
    [to_ana] = smtp.to("ana@example.com")
    html = to_ana.message.get_body(preferencelist=("html",)).get_content()
    assert "Ana &lt;b&gt;Bold&lt;/b&gt;" in html and "<b>" not in html
    plain = to_ana.message.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Ana <b>Bold</b>" in plain


def test_a_whole_channel_goes_out_on_one_connection_per_batch(smtp, settings):
    contacts = ContactFactory.create_batch(40)
    channel = run(email_channel(contacts))

    assert channel.status == Channel.Status.COMPLETED
    assert smtp.connections == 1
    assert len({message.peer for message in smtp.received}) == 1
    assert sorted(address for m in smtp.received for address in m.rcpt_tos) == sorted(
        contact.email for contact in contacts
    )
    deliveries = Delivery.objects.filter(channel=channel)
    assert set(deliveries.values_list("outcome", flat=True)) == {"sent"}
    assert channel.outcome_counts == {"sent": 40} and channel.processed == 40
    assert {m.message["Message-ID"] for m in smtp.received} == set(
        deliveries.values_list("provider_id", flat=True)
    )

    # Smaller batches: one connection each.
    settings.HERALD_ENGINE = {**settings.HERALD_ENGINE, "batch_size": 15}
    channel = run(email_channel(ContactFactory.create_batch(40)))
    assert channel.status == Channel.Status.COMPLETED
    assert smtp.connections == 1 + 3


def test_a_refused_recipient_fails_only_its_own_delivery(smtp):
    contacts = ContactFactory.create_batch(5)
    refused = contacts[2]
    smtp.refuse.add(refused.email)
    channel = run(email_channel(contacts))

    assert channel.status == Channel.Status.COMPLETED
    assert smtp.connections == 1
    failed = Delivery.objects.get(channel=channel, contact=refused)
    assert (failed.state, failed.outcome) == (Delivery.State.FAILED, "failed")
    assert "550 5.1.1" in failed.error and refused.email in failed.error
    others = Delivery.objects.filter(channel=channel).exclude(contact=refused)
    assert set(others.values_list("outcome", flat=True)) == {"sent"}
    assert len(smtp.received) == 4
    assert channel.outcome_counts == {"sent": 4, "failed": 1}


def test_a_lost_connection_fails_the_rest_of_the_batch_and_resends_nothing(smtp):
    contacts = ContactFactory.create_batch(6)
    smtp.drop_at.add(contacts[3].email)
    channel = run(email_channel(contacts))

    assert channel.status == Channel.Status.COMPLETED
    outcomes = {
        delivery.contact_id: delivery
        for delivery in Delivery.objects.filter(channel=channel).order_by("pk")
    }
    assert [outcomes[c.pk].outcome for c in contacts] == ["sent"] * 3 + ["failed"] * 3
    assert all("421 4.3.2" in outcomes[c.pk].error for c in contacts[3:])
    assert [m.rcpt_tos[0] for m in smtp.received] == [c.email for c in contacts[:3]]
    assert smtp.connections == 1  # never retried on a new connection


def test_no_server_fails_every_delivery_with_the_reason(smtp, settings):
    settings.MAILERS["smtp"]["OPTIONS"]["port"] = smtp.port + 1 if smtp.port < 65535 else 1
    channel = run(email_channel(ContactFactory.create_batch(3)))
    assert channel.status == Channel.Status.COMPLETED
    errors = set(Delivery.objects.filter(channel=channel).values_list("error", flat=True))
    assert len(errors) == 1 and "Could not connect to the SMTP server" in errors.pop()
    assert channel.outcome_counts == {"failed": 3}


def test_send_alone_answers_sent_with_the_message_id(smtp):
    from channels.providers import Outgoing

    answer = provider_for("email").send(
        Outgoing(
            delivery_id=1,
            channel_id=1,
            contact_id=ContactFactory().pk,
            kind="email",
            to="solo@example.com",
            content={"subject": "Hi", "body": "Hello"},
        )
    )
    assert answer.outcome == "sent"
    [received] = smtp.received
    assert received.message["Message-ID"] == answer.provider_id


def test_the_unsubscribe_link_of_a_received_email_opts_out_in_one_click(smtp):
    ada = ContactFactory(name="Ada Lovelace", email="ada@example.com")
    run(email_channel([ada]))
    [received] = smtp.received
    path = unsubscribe_path(received)

    # What a mail client does (RFC 8058): a POST with no cookie, no session, no CSRF token.
    mail_client = Client(enforce_csrf_checks=True)
    answer = mail_client.get(path)  # a preview or a link scanner: changes nothing
    assert answer.status_code == 200
    ada.refresh_from_db()
    assert not ada.opted_out_email and not ConsentChange.objects.exists()

    answer = mail_client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    ada.refresh_from_db()
    assert ada.opted_out_email and not ada.opted_out_sms and not ada.opted_out_voice
    [change] = ConsentChange.objects.filter(contact=ada)
    assert (change.kind, change.opted_out, change.source) == (
        "email",
        True,
        ConsentChange.Source.UNSUBSCRIBE_LINK,
    )

    # A later email channel skips her; nothing more reaches her address.
    later = run(email_channel([ada, ContactFactory(email="other@example.com")]))
    skipped = Delivery.objects.get(channel=later, contact=ada)
    assert skipped.state == Delivery.State.SKIPPED
    assert len(smtp.to("ada@example.com")) == 1
    assert len(smtp.to("other@example.com")) == 1

    # An altered link is refused and changes nothing.
    bob = ContactFactory(email="bob@example.com")
    run(email_channel([bob]))
    bob_path = unsubscribe_path(smtp.to("bob@example.com")[0])
    token = bob_path.split("/")[2]
    altered = bob_path.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    answer = mail_client.post(
        altered, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 400
    bob.refresh_from_db()
    assert not bob.opted_out_email
    assert not ConsentChange.objects.filter(contact=bob).exists()
