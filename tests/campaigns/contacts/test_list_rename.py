"""Renaming a contact list."""

import pytest
from django.urls import reverse

from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db


def rename_url(contact_list) -> str:
    return reverse("contacts:list_rename", args=[contact_list.pk])


def test_it_renames_a_list(manager_client):
    contact_list = ContactListFactory(name="Old")
    response = manager_client.post(rename_url(contact_list), {"name": "New"})
    assert response.status_code == 302
    contact_list.refresh_from_db()
    assert contact_list.name == "New"


def test_it_refuses_a_taken_name(manager_client):
    ContactListFactory(name="Taken")
    contact_list = ContactListFactory(name="Old")
    response = manager_client.post(rename_url(contact_list), {"name": "Taken"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    contact_list.refresh_from_db()
    assert contact_list.name == "Old"


def test_it_refuses_a_blank_name(manager_client):
    contact_list = ContactListFactory(name="Old")
    response = manager_client.post(rename_url(contact_list), {"name": ""})
    assert response.status_code == 400
    contact_list.refresh_from_db()
    assert contact_list.name == "Old"


def test_it_needs_post(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.get(rename_url(contact_list)).status_code == 405


def test_it_is_refused_to_a_viewer(viewer_client):
    contact_list = ContactListFactory(name="Old")
    response = viewer_client.post(rename_url(contact_list), {"name": "New"})
    assert response.status_code == 403
    contact_list.refresh_from_db()
    assert contact_list.name == "Old"


def test_it_is_404_for_a_missing_list(manager_client):
    response = manager_client.post(reverse("contacts:list_rename", args=[999]), {"name": "X"})
    assert response.status_code == 404
