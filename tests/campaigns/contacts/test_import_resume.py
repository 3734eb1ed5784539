"""contacts:import_resume — a failed import goes on from its last committed batch."""

import pytest
from django_tasks_db.models import DBTaskResult

from campaigns.contacts import importing, merging, tasks
from campaigns.contacts.importing import importer
from campaigns.models import ActivityEvent, Contact, ImportJob
from tests.conftest import url_for
from tests.factories import ImportJobFactory

from .files import job_for

pytestmark = pytest.mark.django_db

url_of = url_for("contacts:import_resume")
DATA = b"name,phone\nA,2025550101\nB,2025550102\nC,2025550103\nD,2025550104\n"


@pytest.fixture
def failed_job(monkeypatch):
    """An import that failed on a database error after its first batch of two rows."""
    monkeypatch.setattr(importer, "BATCH_ROWS", 2)
    real_insert = merging._insert_memberships
    calls = []

    def failing_insert(list_id, contact_ids):
        calls.append(list_id)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        real_insert(list_id, contact_ids)

    monkeypatch.setattr(merging, "_insert_memberships", failing_insert)
    job = job_for(DATA)
    importing.run_import_chunk(job_id=job.pk)
    monkeypatch.setattr(merging, "_insert_memberships", real_insert)
    job.refresh_from_db()
    return job


def test_a_failure_a_resume_can_get_past_keeps_the_file_and_says_so(manager_client, failed_job):
    assert failed_job.status == ImportJob.Status.FAILED
    assert failed_job.file and failed_job.can_resume
    html = manager_client.get(failed_job.get_absolute_url()).content.decode()
    assert ">Resume</button>" in html
    assert "The uploaded file is kept so that the import can resume from row 4" in html


def test_it_resumes_from_the_last_batch_and_imports_each_row_once(
    manager_client, manager, failed_job, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url_of(failed_job))
    assert response.status_code == 302
    failed_job.refresh_from_db()
    assert (failed_job.status, failed_job.failure) == (ImportJob.Status.QUEUED, "")
    queued = DBTaskResult.objects.get(task_path="campaigns.contacts.tasks.import_contacts")
    assert queued.args_kwargs["kwargs"] == {"job_id": failed_job.pk}
    event = ActivityEvent.objects.get(action="resume_import")
    assert (event.actor, event.from_status, event.to_status) == (manager, "failed", "queued")

    tasks.import_contacts.call(job_id=failed_job.pk)
    failed_job.refresh_from_db()
    assert failed_job.status == ImportJob.Status.COMPLETED
    assert (failed_job.rows_read, failed_job.rows_imported) == (4, 4)
    assert sorted(Contact.objects.values_list("name", flat=True)) == ["A", "B", "C", "D"]
    failed_job.contact_list.refresh_from_db()
    assert failed_job.contact_list.size == 4
    assert not failed_job.file  # imported: the upload is gone


def test_a_refused_file_is_not_kept_and_cannot_resume(manager_client):
    job = job_for(b"name,city\nAnn,Paris\n")
    importing.run_import_chunk(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and not job.file
    html = manager_client.get(job.get_absolute_url()).content.decode()
    assert ">Resume</button>" not in html
    assert "The uploaded file is not kept" in html
    response = manager_client.post(url_of(job))
    assert response.status_code == 409
    assert "its file is no longer kept" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


def test_it_refuses_a_running_import(manager_client):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING)
    response = manager_client.post(url_of(job))
    assert response.status_code == 409
    assert "This import is running; it cannot be resumed." in response.content.decode()


def test_it_needs_post(manager_client, failed_job):
    assert manager_client.get(url_of(failed_job)).status_code == 405
    failed_job.refresh_from_db()
    assert failed_job.status == ImportJob.Status.FAILED


def test_it_is_refused_to_a_viewer_who_sees_no_button(viewer_client, failed_job):
    assert (
        ">Resume</button>" not in viewer_client.get(failed_job.get_absolute_url()).content.decode()
    )
    assert viewer_client.post(url_of(failed_job)).status_code == 403
    failed_job.refresh_from_db()
    assert failed_job.status == ImportJob.Status.FAILED


def test_it_is_404_for_a_missing_import(manager_client):
    assert manager_client.post(url_of(999)).status_code == 404
