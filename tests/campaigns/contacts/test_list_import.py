"""Uploading a CSV file into a list: stored, inspected once, and queued for the workers."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from campaigns.contacts import tasks
from campaigns.contacts.importing import Layout, importer, job, layout
from campaigns.models import ImportJob
from tests.factories import ContactListFactory

from .files import GOOD_CSV, job_for, upload

pytestmark = pytest.mark.django_db


def import_url(contact_list) -> str:
    return reverse("contacts:list_import", args=[contact_list.pk])


def test_it_queues_an_upload_and_the_task_imports_it(
    manager_client, manager, django_capture_on_commit_callbacks
):
    contact_list = ContactListFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            import_url(contact_list), {"file": upload(), "default_region": "US"}
        )
    assert response.status_code == 302
    queued_job = ImportJob.objects.get()
    assert (queued_job.contact_list, queued_job.created_by, queued_job.status) == (
        contact_list,
        manager,
        "queued",
    )
    # The import's first chunk, and the watchdog that takes it over if its worker dies.
    queued = DBTaskResult.objects.get(task_path="campaigns.contacts.tasks.import_contacts")
    assert DBTaskResult.objects.filter(task_path__endswith="watch_imports").count() == 1
    assert queued.args_kwargs == {"args": [], "kwargs": {"job_id": queued_job.pk}}

    tasks.import_contacts.call(job_id=queued_job.pk)
    queued_job.refresh_from_db()
    assert (
        queued_job.status,
        queued_job.rows_read,
        queued_job.rows_imported,
        queued_job.rows_rejected,
    ) == ("completed", 2, 1, 1)
    contact_list.refresh_from_db()
    assert contact_list.size == 1


def test_it_stores_the_layout_the_form_found_so_the_job_never_reads_it_again(
    manager_client, monkeypatch
):
    contact_list = ContactListFactory()
    manager_client.post(import_url(contact_list), {"file": upload(), "default_region": "US"})
    queued_job = ImportJob.objects.get()
    assert Layout.from_json(queued_job.layout).fields == {"name": 0, "phone": 1, "email": 2}

    def no_detection(source):
        raise AssertionError("the job decoded the file again to find its encoding")

    monkeypatch.setattr(layout, "_detect_encoding", no_detection)
    tasks.import_contacts.call(job_id=queued_job.pk)
    queued_job.refresh_from_db()
    assert (queued_job.status, queued_job.rows_read) == ("completed", 2)


def test_a_big_import_queues_its_next_chunk(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(importer, "BATCH_ROWS", 1)
    monkeypatch.setattr(job, "CHUNK_ROWS", 1)
    queued_job = job_for(GOOD_CSV)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.import_contacts.call(job_id=queued_job.pk)
    task_path = "campaigns.contacts.tasks.import_contacts"
    assert DBTaskResult.objects.filter(task_path=task_path).count() == 1
    queued_job.refresh_from_db()
    assert (queued_job.status, queued_job.rows_read) == ("running", 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty."),
        (b"name,phone\n", "header row but no contacts"),
        (b"\x89PNG\r\n\x1a\n\0\0", "not a CSV file"),
        (b"name,city\nAnn,Paris\n", "no phone or email column"),
        # The delimiter sniffer used to raise on a header cell over the csv field limit.
        (b"x" * 5_000_000 + b"\n2025550101\n", "first line cannot be read as CSV"),
        ("phone\n2025550101\n".encode("utf-16"), "in UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "an Excel workbook"),
    ],
)
def test_it_refuses_a_bad_upload_and_imports_nothing(manager_client, data, message):
    contact_list = ContactListFactory()
    response = manager_client.post(
        import_url(contact_list), {"file": upload(data), "default_region": "US"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_it_is_refused_to_a_viewer(viewer_client):
    contact_list = ContactListFactory()
    response = viewer_client.post(
        import_url(contact_list), {"file": upload(), "default_region": "US"}
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_it_needs_post(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.get(import_url(contact_list)).status_code == 405


def test_it_is_404_for_a_missing_list(manager_client):
    response = manager_client.post(
        reverse("contacts:list_import", args=[999]), {"file": upload(), "default_region": "US"}
    )
    assert response.status_code == 404


def test_it_updates_existing_contacts_only_when_asked_to(manager_client):
    # What the choice does to contacts: importing/test_matching.py.
    contact_list = ContactListFactory()
    data = {"file": upload(), "default_region": "US", "update_existing": "on"}
    manager_client.post(import_url(contact_list), data)
    manager_client.post(import_url(contact_list), {"file": upload(), "default_region": "US"})
    assert list(ImportJob.objects.order_by("pk").values_list("update_existing", flat=True)) == [
        True,
        False,
    ]


def test_it_refuses_a_file_over_the_cap_and_keeps_nothing(manager_client, settings, media_root):
    settings.HERALD_MAX_IMPORT_BYTES = 1000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # through the capped handler, onto the disk
    contact_list = ContactListFactory()
    data = b"phone\n" + b"2025550101\n" * 500
    response = manager_client.post(
        import_url(contact_list), {"file": upload(data), "default_region": "US"}
    )
    assert response.status_code == 400
    assert "This file is 5.4\xa0KB; Herald takes files of up to 1000\xa0bytes." in (
        response.content.decode()
    )
    assert not ImportJob.objects.exists()
    assert not any(media_root.rglob("*.csv"))


def test_it_says_which_columns_it_leaves_out(manager_client, settings):
    settings.HERALD_MAX_ATTRIBUTES = 2
    contact_list = ContactListFactory()
    data = b"Name,Phone,Mobile,Email,E-mail,name,city,zip,plan,tier\nAnn,2025550101,,,,,,,,\n"
    response = manager_client.post(
        import_url(contact_list), {"file": upload(data), "default_region": "US"}, follow=True
    )
    html = response.content.decode()
    expected = [
        "“Mobile”: another phone column; only “Phone” is read.",
        "“E-mail”: another email column; only “Email” is read.",
        "“name”: another name column; only “Name” is read.",
        "2 more columns (“plan”, “tier”): a contact keeps at most 2 attributes.",
    ]
    for sentence in expected:
        assert sentence in html
    job = ImportJob.objects.get()
    assert job.dropped_columns == expected
    page = manager_client.get(job.get_absolute_url()).content.decode()
    assert "Columns left out of this import:" in page
