"""The signed one-click unsubscribe link (RFC 8058) and its page."""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from campaigns.models import ConsentChange
from channels.providers.base import Outgoing
from channels.providers.email import build_email
from channels.unsubscribe import make_token, read_token, unsubscribe_headers, unsubscribe_url
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ONE_CLICK = {
    "data": "List-Unsubscribe=One-Click",
    "content_type": "application/x-www-form-urlencoded",
}


@pytest.fixture
def mail_client():
    """A mail client or a browser with no session: no cookie, and CSRF checks enforced."""
    return Client(enforce_csrf_checks=True)


def url_of(contact) -> str:
    return reverse("unsubscribe", args=[make_token(contact.pk)])


def test_the_headers_carry_a_signed_https_link_and_a_mailto(settings):
    settings.HERALD_PUBLIC_URL = "https://herald.example.com"
    settings.HERALD_UNSUBSCRIBE_MAILTO = "leave@herald.example.com"
    contact = ContactFactory()
    headers = unsubscribe_headers(contact.pk)
    link = unsubscribe_url(contact.pk)
    assert link.startswith("https://herald.example.com/unsubscribe/")
    assert headers["List-Unsubscribe"] == (
        f"<{link}>, <mailto:leave@herald.example.com?subject=unsubscribe>"
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert read_token(token) == (contact.pk, "email")


def test_a_long_link_is_folded_between_its_uris_never_encoded(settings):
    # Python's email package would RFC 2047-encode a link too long for one line
    # (CPython issue 85725), and mail clients would then find no link in the header.
    import email.policy

    settings.HERALD_PUBLIC_URL = "https://a-rather-long-public-host-name.herald.example.com"
    settings.HERALD_UNSUBSCRIBE_MAILTO = "unsubscribe@herald.example.com"
    message = Outgoing(1, 1, ContactFactory().pk, "email", "x@example.com", {"body": "Hi"})
    raw = build_email(message).message(policy=email.policy.SMTP).as_bytes().decode()
    header = raw.split("List-Unsubscribe: ", 1)[1].split("\r\nList-Unsubscribe-Post")[0]
    link, mailto = header.split(",\r\n ")
    assert link == f"<{unsubscribe_url(message.contact_id)}>"
    assert len(link) > 78
    assert mailto == "<mailto:unsubscribe@herald.example.com?subject=unsubscribe>"


def test_a_one_click_post_without_csrf_token_or_session_opts_out_of_email(mail_client):
    contact = ContactFactory()
    answer = mail_client.post(url_of(contact), **ONE_CLICK)
    assert answer.status_code == 200
    assert b"You are unsubscribed" in answer.content
    contact.refresh_from_db()
    assert contact.opted_out_email
    assert not contact.opted_out_sms and not contact.opted_out_voice
    [change] = ConsentChange.objects.filter(contact=contact)
    assert (change.kind, change.opted_out, change.source, change.actor) == (
        "email",
        True,
        ConsentChange.Source.UNSUBSCRIBE_LINK,
        None,
    )
    assert "One-click" in change.detail

    # A second click (mail clients retry) answers the same and writes nothing more.
    assert mail_client.post(url_of(contact), **ONE_CLICK).status_code == 200
    assert ConsentChange.objects.filter(contact=contact).count() == 1


def test_the_page_shows_one_button_and_changes_nothing(mail_client):
    contact = ContactFactory(email="page@example.com")
    answer = mail_client.get(url_of(contact))
    assert answer.status_code == 200
    page = answer.content.decode()
    main = page.split('<main id="main">', 1)[1].split("</main>", 1)[0]
    assert "page@example.com" in main
    assert main.count("<button") == 1 and main.count("<form") == 1
    assert f'<form method="post" action="{url_of(contact)}">' in main
    # Someone who is not signed in sees none of the app's navigation.
    assert 'class="mainnav"' not in page and "Sign out" not in page
    contact.refresh_from_db()
    assert not contact.opted_out_email
    assert not ConsentChange.objects.exists()

    # Its button: a plain form POST with no CSRF token, accepted.
    answer = mail_client.post(url_of(contact))
    assert answer.status_code == 200
    contact.refresh_from_db()
    assert contact.opted_out_email
    assert ConsentChange.objects.get(contact=contact).detail == "Unsubscribe page"
    assert "already unsubscribed" in mail_client.get(url_of(contact)).content.decode()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # altered signature
        lambda token: make_token(999_999_999).split(":")[0] + ":" + token.split(":")[1],
        lambda token: "not-a-token",
        lambda token: signing.dumps([1, "email"]),  # signed, but not for this purpose
    ],
)
def test_a_bad_token_is_refused_and_changes_nothing(mail_client, tamper):
    contact = ContactFactory()
    token = tamper(make_token(contact.pk))
    url = reverse("unsubscribe", args=[token])
    for answer in (mail_client.get(url), mail_client.post(url, **ONE_CLICK)):
        assert answer.status_code == 400
        assert "This unsubscribe link is not valid" in answer.content.decode()
    contact.refresh_from_db()
    assert not contact.opted_out_email
    assert not ConsentChange.objects.exists()


def test_a_link_for_a_contact_no_longer_held_is_not_found(mail_client):
    contact = ContactFactory()
    url = url_of(contact)
    contact.delete()
    answer = mail_client.post(url, **ONE_CLICK)
    assert answer.status_code == 404
    assert "no longer hold this address" in answer.content.decode()


def test_other_methods_are_refused(mail_client):
    contact = ContactFactory()
    assert mail_client.put(url_of(contact)).status_code == 405
    contact.refresh_from_db()
    assert not contact.opted_out_email


def test_the_link_of_a_test_send_unsubscribes_nobody(mail_client, settings):
    settings.HERALD_PUBLIC_URL = "https://herald.example.com"
    contact = ContactFactory()
    headers = unsubscribe_headers(None)
    path = headers["List-Unsubscribe"].split(">")[0].removeprefix("<https://herald.example.com")
    for answer in (mail_client.get(path), mail_client.post(path, **ONE_CLICK)):
        assert answer.status_code == 200
        assert "This was a test email" in answer.content.decode()
    contact.refresh_from_db()
    assert not contact.opted_out_email and not ConsentChange.objects.exists()
