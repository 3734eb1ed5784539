"""Creating a contact list."""

import pytest
from django.urls import reverse

from campaigns.models import ContactList
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db


def test_it_creates_a_list(manager_client, manager):
    response = manager_client.post(reverse("contacts:list_create"), {"name": "Volunteers"})
    contact_list = ContactList.objects.get(name="Volunteers")
    assert response.status_code == 302
    assert response.url == contact_list.get_absolute_url()
    assert contact_list.created_by == manager


def test_it_refuses_a_duplicate_list_name(manager_client):
    ContactListFactory(name="Volunteers")
    response = manager_client.post(reverse("contacts:list_create"), {"name": "Volunteers"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert ContactList.objects.count() == 1


def test_it_needs_post(manager_client):
    assert manager_client.get(reverse("contacts:list_create")).status_code == 405


def test_it_is_refused_to_a_viewer(viewer_client):
    response = viewer_client.post(reverse("contacts:list_create"), {"name": "Volunteers"})
    assert response.status_code == 403
    assert not ContactList.objects.exists()
