"""Importing a CSV file into a new list."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from campaigns.models import ContactList, ImportJob
from tests.factories import ContactListFactory

from .files import upload

pytestmark = pytest.mark.django_db


def test_it_imports_into_a_new_list(manager_client, django_capture_on_commit_callbacks):
    assert manager_client.get(reverse("contacts:import_new")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("contacts:import_new"),
            {"list_name": "Donors", "file": upload(), "default_region": "US"},
        )
    contact_list = ContactList.objects.get(name="Donors")
    assert response.url == contact_list.get_absolute_url()
    job = ImportJob.objects.get()
    assert job.contact_list == contact_list
    assert job.layout is not None
    queued = DBTaskResult.objects.values_list("task_path", flat=True)
    assert sorted(queued) == [
        "campaigns.contacts.tasks.import_contacts",
        "campaigns.contacts.tasks.watch_imports",
    ]


def test_it_refuses_a_taken_name(manager_client):
    ContactListFactory(name="Donors")
    response = manager_client.post(
        reverse("contacts:import_new"),
        {"list_name": "Donors", "file": upload(), "default_region": "US"},
    )
    assert response.status_code == 400
    assert ContactList.objects.count() == 1
    assert not ImportJob.objects.exists()


def test_it_is_refused_to_a_viewer(viewer_client):
    response = viewer_client.post(
        reverse("contacts:import_new"),
        {"list_name": "Donors", "file": upload(), "default_region": "US"},
    )
    assert response.status_code == 403
    assert not ContactList.objects.exists()
