"""An upload imported by the background workers, chunk by chunk."""

from pathlib import Path

import pytest

from campaigns.contacts import importing, merging
from campaigns.contacts.importing import importer as importer_module
from campaigns.contacts.importing import job as job_module
from campaigns.contacts.importing import layout as layout_module
from campaigns.contacts.importing import writer as writer_module
from campaigns.models import Contact, ImportJob
from tests.factories import ContactListFactory, ImportJobFactory

from ..files import job_for
from .messy import messy_csv

pytestmark = pytest.mark.django_db


def report_of(job: ImportJob) -> bytes:
    job.refresh_from_db()
    with job.error_report.open("rb") as report:
        return report.read(job.error_report_bytes)


def test_it_imports_in_chunks_and_resumes_where_it_stopped(monkeypatch, contact_list):
    monkeypatch.setattr(importer_module, "BATCH_ROWS", 2)
    monkeypatch.setattr(job_module, "CHUNK_ROWS", 4)
    job = job_for(messy_csv().getvalue(), contact_list=contact_list)
    chunks = 1
    while importing.run_import_chunk(job_id=job.pk):
        chunks += 1
    job.refresh_from_db()
    assert chunks == 4  # three of four rows, and one that finds the end of the file
    assert job.status == ImportJob.Status.COMPLETED
    counts = (job.rows_read, job.rows_imported, job.rows_merged, job.rows_rejected)
    assert counts == (12, 3, 1, 5)
    assert job.rows_matched == 3
    assert job.offset_bytes == job.size_bytes
    lines = report_of(job).decode().splitlines()
    assert [line.split(",")[0] for line in lines] == ["5", "6", "7", "9", "12", "13", "14", "15"]
    contact_list.refresh_from_db()
    assert contact_list.size == 5


def test_it_learns_the_layout_once_and_no_later_chunk_decodes_the_file(monkeypatch, contact_list):
    monkeypatch.setattr(importer_module, "BATCH_ROWS", 2)
    monkeypatch.setattr(job_module, "CHUNK_ROWS", 4)
    detections = []
    real_detect = layout_module._detect_encoding

    def counted_detect(source):
        detections.append(source)
        return real_detect(source)

    monkeypatch.setattr(layout_module, "_detect_encoding", counted_detect)
    job = job_for(messy_csv().getvalue(), contact_list=contact_list)
    chunks = 1
    while importing.run_import_chunk(job_id=job.pk):
        chunks += 1
    job.refresh_from_db()
    assert (chunks, len(detections)) == (4, 1)
    assert job.layout["encoding"] == "utf-8-sig"
    assert job.status == ImportJob.Status.COMPLETED


def test_it_keeps_and_reports_what_was_imported_before_a_failure(monkeypatch):
    monkeypatch.setattr(importer_module, "BATCH_ROWS", 2)
    real_insert = merging._insert_memberships
    calls = []

    def failing_insert(list_id, contact_ids):
        calls.append(list_id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real_insert(list_id, contact_ids)

    monkeypatch.setattr(merging, "_insert_memberships", failing_insert)
    data = b"name,phone\nA,2025550101\nB,bad\nC,2025550103\nD,2025550104\nE,2025550105\n"
    job = job_for(data)
    assert importing.run_import_chunk(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.failure == "Row 4: the import stopped on an error (disk full)."
    assert (job.rows_read, job.rows_imported, job.rows_rejected) == (2, 1, 1)
    job.contact_list.refresh_from_db()
    assert job.contact_list.size == 1
    assert list(Contact.objects.values_list("name", flat=True)) == ["A"]
    assert report_of(job) == "3,phone,“bad” is not a phone number.\r\n".encode()


def test_it_fails_with_the_reason_for_a_refused_file():
    job = job_for(b"name,city\nAnn,Paris\n")
    assert importing.run_import_chunk(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "no phone or email column" in job.failure
    assert not Contact.objects.exists()


def test_it_does_not_run_a_finished_job_again():
    job = job_for(b"phone\n2025550101\n")
    importing.run_import_chunk(job_id=job.pk)
    assert importing.run_import_chunk(job_id=job.pk) is False
    job.contact_list.refresh_from_db()
    assert job.contact_list.size == 1


def test_it_ends_quietly_when_the_list_was_deleted(monkeypatch):
    job = job_for(b"phone\n2025550101\n")
    real_write = writer_module.write_batch

    def delete_list_first(**kwargs):
        job.contact_list.delete()
        real_write(**kwargs)

    monkeypatch.setattr(writer_module, "write_batch", delete_list_first)
    assert importing.run_import_chunk(job_id=job.pk) is False
    assert not ImportJob.objects.exists()
    assert not Contact.objects.exists()


@pytest.mark.postgres
def test_it_leaves_the_transaction_usable_after_refreshing_statistics():
    writer_module.refresh_statistics()
    assert ContactListFactory().pk


def test_it_deletes_the_upload_once_imported_and_keeps_the_report(
    django_capture_on_commit_callbacks,
):
    job = job_for(b"phone\n2025550101\nnope\n")
    upload = Path(job.file.path)
    assert upload.exists()
    with django_capture_on_commit_callbacks(execute=True):
        importing.run_import_chunk(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMPLETED
    assert not job.file and not upload.exists()
    assert report_of(job) == "3,phone,“nope” is not a phone number.\r\n".encode()


def test_the_migration_releases_uploads_of_imports_completed_before():
    import importlib
    import pkgutil

    from django.apps import apps

    from campaigns import migrations

    # By its name, not its number: migrations made side by side are renumbered when merged.
    (name,) = [
        module.name
        for module in pkgutil.iter_modules(migrations.__path__)
        if module.name.endswith("_import_heartbeat")
    ]
    migration = importlib.import_module(f"campaigns.migrations.{name}")
    done = ImportJobFactory(status=ImportJob.Status.COMPLETED)
    failed = ImportJobFactory(status=ImportJob.Status.FAILED)  # may resume: kept
    done_path, failed_path = Path(done.file.path), Path(failed.file.path)
    migration.release_imported_uploads(apps, None)
    done.refresh_from_db()
    failed.refresh_from_db()
    assert not done.file and not done_path.exists()
    assert failed.file and failed_path.exists()


@pytest.mark.parametrize("update_existing", [False, True])
def test_it_runs_a_fixed_number_of_queries_per_chunk_whatever_its_rows(
    monkeypatch, update_existing
):
    """A chunk's queries do not grow with its rows: new contacts, stored ones matched by
    phone or by email (with another name, so reported and, with update_existing, updated),
    rejected rows and the report all cost the same statements for 10 rows as for 100."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ContactFactory

    monkeypatch.setattr(importer_module, "BATCH_ROWS", 1_000)

    def queries_for(rows: int, *, first: int) -> int:
        lines = []
        for i in range(first, first + rows):
            phone = f"+1312555{i:04d}"
            email = f"p{i}@example.com"
            if i % 5 == 1:
                ContactFactory(name=f"Stored {i}", phone=phone, email="")
            elif i % 5 == 2:
                ContactFactory(name=f"Stored {i}", phone="", email=email)
            bad = "nope" if i % 5 == 3 else phone
            lines.append(f"Row {i},{bad},{email}")
        data = ("name,phone,email\n" + "\n".join(lines) + "\n").encode()
        job = job_for(data, contact_list=ContactListFactory(), update_existing=update_existing)
        with CaptureQueriesContext(connection) as captured:
            assert importing.run_import_chunk(job_id=job.pk) is False
        job.refresh_from_db()
        assert job.status == ImportJob.Status.COMPLETED
        assert (job.rows_read, job.rows_matched, job.rows_rejected) == (
            rows,
            rows * 2 // 5,
            rows // 5,
        )
        return len(captured)

    assert queries_for(10, first=0) == queries_for(100, first=1000)
