"""Deleting a contact list (its contacts stay)."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from campaigns.models import Contact, ContactList, ImportJob, Membership
from tests.factories import CampaignFactory, ContactListFactory, ImportJobFactory

pytestmark = pytest.mark.django_db


def delete_url(contact_list) -> str:
    return reverse("contacts:list_delete", args=[contact_list.pk])


def test_it_deletes_an_unused_list_and_keeps_the_contacts(manager_client):
    contact_list = ContactListFactory(size=2)
    response = manager_client.post(delete_url(contact_list))
    assert response.status_code == 302
    assert response.url == reverse("contacts:lists")
    assert not ContactList.objects.exists()
    assert not Membership.objects.exists()
    assert Contact.objects.count() == 2


def test_it_refuses_to_delete_a_list_a_campaign_uses(manager_client):
    campaign = CampaignFactory(name="Spring appeal", contact_list=ContactListFactory(size=2))
    response = manager_client.post(delete_url(campaign.contact_list))
    assert response.status_code == 409
    assert "used by “Spring appeal”" in response.content.decode()
    assert ContactList.objects.filter(pk=campaign.contact_list.pk).exists()
    assert Membership.objects.count() == 2


def test_it_needs_post(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.get(delete_url(contact_list)).status_code == 405
    assert ContactList.objects.exists()


def test_it_is_refused_to_a_viewer(viewer_client):
    contact_list = ContactListFactory()
    assert viewer_client.post(delete_url(contact_list)).status_code == 403
    assert ContactList.objects.exists()


def test_it_is_404_for_a_missing_list(manager_client):
    assert manager_client.post(reverse("contacts:list_delete", args=[999])).status_code == 404


def test_it_deletes_the_files_its_imports_kept(manager_client, django_capture_on_commit_callbacks):
    """A failed import that could resume keeps its upload; its list going takes it along,
    with every import's error report."""
    contact_list = ContactListFactory()
    failed = ImportJobFactory(contact_list=contact_list, status=ImportJob.Status.FAILED)
    reported = ImportJobFactory(
        contact_list=contact_list,
        status=ImportJob.Status.COMPLETED,
        file="",
        error_report=ContentFile(b"3,phone,bad\r\n", name="job-errors.csv"),
    )
    other = ImportJobFactory(status=ImportJob.Status.FAILED)  # another list's
    files = [Path(failed.file.path), Path(reported.error_report.path)]
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        assert manager_client.post(delete_url(contact_list)).status_code == 302
    assert not any(path.exists() for path in files)
    assert Path(other.file.path).exists()


def test_a_refused_delete_keeps_the_files(manager_client, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(contact_list=ContactListFactory())
    job = ImportJobFactory(contact_list=campaign.contact_list, status=ImportJob.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert manager_client.post(delete_url(campaign.contact_list)).status_code == 409
    assert Path(job.file.path).exists()


def test_the_admin_deletes_the_files_too(admin_client, django_capture_on_commit_callbacks):
    job = ImportJobFactory(status=ImportJob.Status.FAILED)
    upload = Path(job.file.path)
    url = reverse("admin:campaigns_contactlist_delete", args=[job.contact_list.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not ContactList.objects.exists()
    assert not upload.exists()


def test_the_refusal_is_said_once_on_a_list_with_an_import(manager_client):
    campaign = CampaignFactory(name="Spring appeal", contact_list=ContactListFactory())
    ImportJobFactory(contact_list=campaign.contact_list, status=ImportJob.Status.COMPLETED)
    response = manager_client.post(delete_url(campaign.contact_list))
    assert response.content.decode().count("used by “Spring appeal”") == 1
