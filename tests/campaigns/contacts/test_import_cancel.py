"""contacts:import_cancel — stopping an import; what it imported stays."""

from pathlib import Path

import pytest

from campaigns.contacts import importing
from campaigns.contacts.importing import importer, writer
from campaigns.models import ActivityEvent, ImportJob
from tests.conftest import HTMX, url_for
from tests.factories import ImportJobFactory

from .files import job_for

pytestmark = pytest.mark.django_db

url_of = url_for("contacts:import_cancel")


def test_it_cancels_a_running_import_and_deletes_its_file(
    manager_client, manager, django_capture_on_commit_callbacks
):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING, rows_imported=3)
    upload = Path(job.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url_of(job))
    assert response.status_code == 302
    assert response.url == job.get_absolute_url()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert not job.file and not upload.exists()
    event = ActivityEvent.objects.get(action="cancel_import")
    assert (event.actor, event.from_status, event.to_status) == (manager, "running", "cancelled")
    page = manager_client.get(job.get_absolute_url()).content.decode()
    assert "The 3 contacts it imported stay in the list" in page
    assert url_of(job) not in page


def test_a_worker_on_a_cancelled_import_stops_quietly_and_keeps_nothing_more(
    manager_client, monkeypatch
):
    """The worker's next batch finds the job cancelled: it is rolled back, nothing fails."""
    monkeypatch.setattr(importer, "BATCH_ROWS", 1)
    job = job_for(b"phone\n2025550101\n2025550102\n2025550103\n")
    real_write = writer.write_batch
    written = []

    def cancel_after_the_first_batch(**kwargs):
        if written:
            manager_client.post(url_of(job))
        real_write(**kwargs)
        written.append(kwargs["batch"])

    monkeypatch.setattr(writer, "write_batch", cancel_after_the_first_batch)
    assert importing.run_import_chunk(job_id=job.pk) is False
    job.refresh_from_db()
    assert (job.status, job.failure) == (ImportJob.Status.CANCELLED, "")
    assert (job.rows_read, job.rows_imported) == (1, 1)
    job.contact_list.refresh_from_db()
    assert job.contact_list.size == 1


def test_it_asks_first_without_javascript(manager_client):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING)
    response = manager_client.get(url_of(job))
    assert response.status_code == 200
    assert "Cancel the import of “contacts.csv”?" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING


def test_it_answers_htmx_with_the_progress_region(manager_client):
    job = ImportJobFactory(status=ImportJob.Status.QUEUED)
    response = manager_client.post(url_of(job), headers=HTMX)
    assert response.status_code == 286  # finished: the region stops polling
    html = response.content.decode()
    assert 'id="import-progress"' in html and "<html" not in html
    assert "Cancelled" in html


def test_it_is_a_no_op_for_a_cancelled_import(manager_client):
    job = ImportJobFactory(status=ImportJob.Status.CANCELLED, file="")
    response = manager_client.post(url_of(job), follow=True)
    assert response.status_code == 200
    assert "This import is already cancelled." in response.content.decode()
    assert not ActivityEvent.objects.exists()


def test_it_refuses_a_completed_import(manager_client):
    job = ImportJobFactory(status=ImportJob.Status.COMPLETED)
    response = manager_client.post(url_of(job))
    assert response.status_code == 409
    assert "This import is completed; it cannot be cancelled." in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMPLETED


def test_it_is_refused_to_a_viewer_who_sees_no_button(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING)
    assert url_of(job) not in viewer_client.get(job.get_absolute_url()).content.decode()
    assert viewer_client.post(url_of(job)).status_code == 403
    assert viewer_client.get(url_of(job)).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING


def test_a_manager_sees_cancel_with_a_confirmation_while_it_runs(manager_client):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING)
    html = manager_client.get(job.get_absolute_url()).content.decode()
    assert f'hx-post="{url_of(job)}"' in html
    assert 'data-confirm-title="Cancel this import?"' in html
    assert ">Resume</button>" not in html


def test_it_is_404_for_a_missing_import(manager_client):
    assert manager_client.post(url_of(999)).status_code == 404
