"""The contact page (details, opt-outs, history) and the CSV upload pages."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from campaigns import importing, tasks
from campaigns.models import ContactList, ImportJob
from channels.models import Channel
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ContactListFactory,
    DeliveryFactory,
    ImportJobFactory,
)

pytestmark = pytest.mark.django_db

GOOD_CSV = b"name,phone,email\nAnn,(202) 555-0101,ann@example.com\nBob,nope,bob@example.com\n"


def url(name: str, *args) -> str:
    return reverse(f"contacts:{name}", args=args)


# -- the contact page ---------------------------------------------------------------------


def test_it_shows_the_history_across_campaigns_and_channels(viewer_client):
    contact = ContactFactory(name="Ann")
    sms = ChannelFactory(kind=Channel.Kind.SMS, name="Spring SMS")
    voice = ChannelFactory(kind=Channel.Kind.AI_VOICE, name="Autumn calls")
    DeliveryFactory(contact=contact, channel=sms, outcome="delivered", converted=True)
    DeliveryFactory(contact=contact, channel=voice, outcome="no_answer")
    DeliveryFactory(channel=voice)  # someone else's
    response = viewer_client.get(contact.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Spring SMS" in html and "Autumn calls" in html
    assert sms.campaign.name in html and voice.campaign.name in html
    assert "no_answer" in html
    assert response.context["page"].paginator.count == 2
    assert response.context["converted"] == 1


def test_contact_page_is_404_for_a_missing_contact(viewer_client):
    assert viewer_client.get(url("contact", 999)).status_code == 404


def test_contact_page_needs_a_login(client):
    contact = ContactFactory()
    response = client.get(contact.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_edits_a_contact(manager_client):
    contact = ContactFactory()
    data = {
        "name": "Ann Lee",
        "phone": "202 555 0188",
        "email": "A@Example.com",
        "timezone": "Europe/Paris",
    }
    response = manager_client.post(url("contact_edit", contact.pk), data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.email, contact.timezone) == (
        "Ann Lee",
        "+12025550188",
        "a@example.com",
        "Europe/Paris",
    )


def test_edit_refuses_a_bad_email_and_changes_nothing(manager_client):
    contact = ContactFactory(name="Ann")
    data = {"name": "Changed", "phone": "", "email": "nope", "timezone": "UTC"}
    response = manager_client.post(url("contact_edit", contact.pk), data)
    assert response.status_code == 400
    assert "valid email" in response.content.decode()
    contact.refresh_from_db()
    assert contact.name == "Ann"


def test_edit_needs_post(manager_client):
    contact = ContactFactory()
    assert manager_client.get(url("contact_edit", contact.pk)).status_code == 405


def test_a_viewer_cannot_edit(viewer_client):
    contact = ContactFactory(name="Ann")
    data = {"name": "Changed", "phone": "", "email": "a@example.com", "timezone": "UTC"}
    assert viewer_client.post(url("contact_edit", contact.pk), data).status_code == 403
    contact.refresh_from_db()
    assert contact.name == "Ann"


def test_edit_is_404_for_a_missing_contact(manager_client):
    assert manager_client.post(url("contact_edit", 999), {}).status_code == 404


def test_it_opts_a_contact_out_per_kind(manager_client):
    contact = ContactFactory()
    response = manager_client.post(
        url("contact_opt_out", contact.pk), {"opted_out_sms": "on", "opted_out_email": "on"}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.opted_out_voice, contact.opted_out_sms, contact.opted_out_email) == (
        False,
        True,
        True,
    )


def test_it_opts_a_contact_back_in(manager_client):
    contact = ContactFactory(opted_out_voice=True)
    manager_client.post(url("contact_opt_out", contact.pk), {})
    contact.refresh_from_db()
    assert not contact.opted_out_voice


def test_opt_out_needs_post(manager_client):
    contact = ContactFactory()
    assert manager_client.get(url("contact_opt_out", contact.pk)).status_code == 405


def test_a_viewer_cannot_opt_out(viewer_client):
    contact = ContactFactory()
    assert (
        viewer_client.post(url("contact_opt_out", contact.pk), {"opted_out_sms": "on"}).status_code
        == 403
    )
    contact.refresh_from_db()
    assert not contact.opted_out_sms


# -- uploads ------------------------------------------------------------------------------


def upload(data: bytes = GOOD_CSV, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_it_queues_an_upload_and_the_task_imports_it(
    manager_client, manager, django_capture_on_commit_callbacks
):
    contact_list = ContactListFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            url("list_import", contact_list.pk), {"file": upload(), "default_region": "US"}
        )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.contact_list, job.created_by, job.status) == (contact_list, manager, "queued")
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "campaigns.tasks.import_contacts"
    assert queued.args_kwargs == {"args": [], "kwargs": {"job_id": job.pk}}

    tasks.import_contacts.call(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_read, job.rows_imported, job.rows_rejected) == (
        "completed",
        2,
        1,
        1,
    )
    contact_list.refresh_from_db()
    assert contact_list.size == 1


def test_a_big_import_queues_its_next_chunk(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(importing, "BATCH_ROWS", 1)
    monkeypatch.setattr(importing, "CHUNK_ROWS", 1)
    job = ImportJobFactory(file=upload(), size_bytes=len(GOOD_CSV))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.import_contacts.call(job_id=job.pk)
    assert DBTaskResult.objects.filter(task_path="campaigns.tasks.import_contacts").count() == 1
    job.refresh_from_db()
    assert (job.status, job.rows_read) == ("running", 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty."),
        (b"name,phone\n", "header row but no contacts"),
        (b"\x89PNG\r\n\x1a\n\0\0", "not a CSV file"),
        (b"name,city\nAnn,Paris\n", "no phone or email column"),
    ],
)
def test_it_refuses_a_bad_upload_and_imports_nothing(manager_client, data, message):
    contact_list = ContactListFactory()
    response = manager_client.post(
        url("list_import", contact_list.pk), {"file": upload(data), "default_region": "US"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_viewer_cannot_upload(viewer_client):
    contact_list = ContactListFactory()
    response = viewer_client.post(
        url("list_import", contact_list.pk), {"file": upload(), "default_region": "US"}
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_upload_needs_post(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.get(url("list_import", contact_list.pk)).status_code == 405


def test_upload_is_404_for_a_missing_list(manager_client):
    response = manager_client.post(
        url("list_import", 999), {"file": upload(), "default_region": "US"}
    )
    assert response.status_code == 404


def test_it_imports_into_a_new_list(manager_client, django_capture_on_commit_callbacks):
    assert manager_client.get(url("import_new")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            url("import_new"), {"list_name": "Donors", "file": upload(), "default_region": "US"}
        )
    contact_list = ContactList.objects.get(name="Donors")
    assert response.url == contact_list.get_absolute_url()
    assert ImportJob.objects.get().contact_list == contact_list
    assert DBTaskResult.objects.count() == 1


def test_a_new_list_import_refuses_a_taken_name(manager_client):
    ContactListFactory(name="Donors")
    response = manager_client.post(
        url("import_new"), {"list_name": "Donors", "file": upload(), "default_region": "US"}
    )
    assert response.status_code == 400
    assert ContactList.objects.count() == 1
    assert not ImportJob.objects.exists()


def test_a_viewer_cannot_import_into_a_new_list(viewer_client):
    response = viewer_client.post(
        url("import_new"), {"list_name": "Donors", "file": upload(), "default_region": "US"}
    )
    assert response.status_code == 403
    assert not ContactList.objects.exists()


# -- progress and report ------------------------------------------------------------------


def test_progress_polls_while_the_import_runs(viewer_client):
    job = ImportJobFactory(
        status=ImportJob.Status.RUNNING, rows_read=10, rows_imported=9, rows_rejected=1
    )
    response = viewer_client.get(url("import_detail", job.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="every 1s' in html
    assert 'data-count="read">10<' in html
    assert "<html" not in html


def test_progress_stops_polling_when_the_import_ends(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.COMPLETED, rows_read=10, rows_imported=10)
    response = viewer_client.get(url("import_detail", job.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert response["HX-Trigger"] == '{"importFinished": {}}'
    html = response.content.decode()
    assert "hx-trigger" not in html
    assert "Download the error report" in html


def test_the_list_page_shows_the_latest_import(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING)
    response = viewer_client.get(job.contact_list.get_absolute_url())
    assert url("import_detail", job.pk) in response.content.decode()


def test_the_import_page_renders_without_htmx(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.FAILED, failure="Row 4: boom.", rows_read=2)
    response = viewer_client.get(url("import_detail", job.pk))
    assert response.status_code == 200
    assert "This import failed. Row 4: boom." in response.content.decode()


def test_progress_is_404_for_a_missing_job(viewer_client):
    assert viewer_client.get(url("import_detail", 999)).status_code == 404


def test_it_downloads_the_error_report(viewer_client):
    data = b"name,phone,=evil\nAnn,2025550101,\nBob,nope,\n,,x\n"
    job = ImportJobFactory(file=upload(data), size_bytes=len(data))
    importing.run_import_chunk(job_id=job.pk)
    response = viewer_client.get(url("import_report", job.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}-errors.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["row", "column", "reason"],
        ["3", "phone", "“nope” is not a phone number."],
        ["4", "phone", "The row has no phone number or email address."],
    ]


def test_the_report_of_a_failed_import_says_where_it_stopped(viewer_client):
    job = ImportJobFactory(
        status=ImportJob.Status.FAILED, next_row=2002, failure="Row 2002: boom."
    )
    text = b"".join(viewer_client.get(url("import_report", job.pk)).streaming_content).decode()
    assert "2002,,The import stopped here: Row 2002: boom." in text


def test_report_is_404_for_a_missing_job(viewer_client):
    assert viewer_client.get(url("import_report", 999)).status_code == 404
