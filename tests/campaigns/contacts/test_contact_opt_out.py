"""Opting a contact out of (or back into) each kind of channel."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def opt_out_url(contact) -> str:
    return reverse("contacts:contact_opt_out", args=[contact.pk])


def test_it_opts_a_contact_out_per_kind(manager_client):
    contact = ContactFactory()
    response = manager_client.post(
        opt_out_url(contact), {"opted_out_sms": "on", "opted_out_email": "on"}, follow=True
    )
    assert "Opted out of: sms, email." in response.content.decode()
    contact.refresh_from_db()
    assert (contact.opted_out_voice, contact.opted_out_sms, contact.opted_out_email) == (
        False,
        True,
        True,
    )
    history = contact.consent_changes.order_by("kind")
    assert [(c.kind, c.opted_out, c.source, c.actor) for c in history] == [
        ("email", True, "manager", response.wsgi_request.user),
        ("sms", True, "manager", response.wsgi_request.user),
    ]
    # Posting the same choices again changes nothing and writes nothing.
    manager_client.post(opt_out_url(contact), {"opted_out_sms": "on", "opted_out_email": "on"})
    assert contact.consent_changes.count() == 2


def test_it_opts_a_contact_back_in(manager_client):
    contact = ContactFactory(opted_out_voice=True)
    response = manager_client.post(opt_out_url(contact), {}, follow=True)
    assert "Opted in to calls, SMS and email." in response.content.decode()
    contact.refresh_from_db()
    assert not contact.opted_out_voice


def test_it_needs_post(manager_client):
    contact = ContactFactory()
    assert manager_client.get(opt_out_url(contact)).status_code == 405


def test_it_is_refused_to_a_viewer(viewer_client):
    contact = ContactFactory()
    assert viewer_client.post(opt_out_url(contact), {"opted_out_sms": "on"}).status_code == 403
    contact.refresh_from_db()
    assert not contact.opted_out_sms


def test_it_is_404_for_a_missing_contact(manager_client):
    response = manager_client.post(reverse("contacts:contact_opt_out", args=[999]), {})
    assert response.status_code == 404
