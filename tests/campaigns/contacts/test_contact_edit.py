"""Editing a contact."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def edit_url(contact) -> str:
    return reverse("contacts:contact_edit", args=[contact.pk])


def test_it_edits_a_contact(manager_client):
    contact = ContactFactory()
    data = {
        "name": "Ann Lee",
        "phone": "202 555 0188",
        "email": "A@Example.com",
        "timezone": "Europe/Paris",
    }
    response = manager_client.post(edit_url(contact), data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.email, contact.timezone) == (
        "Ann Lee",
        "+12025550188",
        "a@example.com",
        "Europe/Paris",
    )


def test_it_refuses_a_bad_email_and_changes_nothing(manager_client):
    contact = ContactFactory(name="Ann")
    data = {"name": "Changed", "phone": "", "email": "nope", "timezone": "UTC"}
    response = manager_client.post(edit_url(contact), data)
    assert response.status_code == 400
    assert "valid email" in response.content.decode()
    contact.refresh_from_db()
    assert contact.name == "Ann"


def test_it_needs_post(manager_client):
    contact = ContactFactory()
    assert manager_client.get(edit_url(contact)).status_code == 405


def test_it_is_refused_to_a_viewer(viewer_client):
    contact = ContactFactory(name="Ann")
    data = {"name": "Changed", "phone": "", "email": "a@example.com", "timezone": "UTC"}
    assert viewer_client.post(edit_url(contact), data).status_code == 403
    contact.refresh_from_db()
    assert contact.name == "Ann"


def test_it_is_404_for_a_missing_contact(manager_client):
    assert manager_client.post(reverse("contacts:contact_edit", args=[999]), {}).status_code == 404
