"""An import whose worker stops is taken over: the watchdog, and the writer that lost."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.contacts import importing, tasks
from campaigns.contacts.importing import importer, recovery, writer
from campaigns.models import Contact, ImportJob
from tests.factories import ImportJobFactory

from ..files import job_for

pytestmark = pytest.mark.django_db

CHUNK_TASK = "campaigns.contacts.tasks.import_contacts"
WATCH_TASK = "campaigns.contacts.tasks.watch_imports"


def stale() -> timezone.datetime:
    return timezone.now() - timedelta(minutes=5)


def queued(task_path: str) -> list[dict]:
    return [r.args_kwargs["kwargs"] for r in DBTaskResult.objects.filter(task_path=task_path)]


def test_it_hands_a_stalled_import_to_another_worker_once():
    job = ImportJobFactory(status=ImportJob.Status.RUNNING, heartbeat_at=stale())
    fresh = ImportJobFactory(status=ImportJob.Status.RUNNING)
    ImportJobFactory(status=ImportJob.Status.FAILED, heartbeat_at=stale())

    assert recovery.watch(token="a") is True

    assert queued(CHUNK_TASK) == [{"job_id": job.pk}]
    job.refresh_from_db()
    assert job.takeovers == 1 and job.taken_over_at is not None
    # Until the new worker beats, the page says it is stalled; the next tick leaves it be.
    assert job.is_stalled and not fresh.is_stalled
    assert recovery.watch(token="a") is True
    assert len(queued(CHUNK_TASK)) == 1


def test_a_queued_import_whose_worker_died_before_starting_it_is_taken_over_too():
    job = ImportJobFactory(status=ImportJob.Status.QUEUED, heartbeat_at=stale())
    recovery.take_over_stalled()
    assert queued(CHUNK_TASK) == [{"job_id": job.pk}]


def test_the_watchdog_ticks_while_an_import_is_unfinished_and_then_ends():
    ImportJobFactory(status=ImportJob.Status.RUNNING)
    assert recovery.watch(token="a") is True
    assert queued(WATCH_TASK) == [{"token": "a"}]
    # Another chain finds the lease held and ends.
    assert recovery.watch(token="b") is False
    ImportJob.objects.update(status=ImportJob.Status.COMPLETED)
    assert recovery.watch(token="a") is False
    assert len(queued(WATCH_TASK)) == 1


def test_a_chunk_starts_a_watchdog_unless_a_live_one_holds_the_lease():
    ImportJobFactory(status=ImportJob.Status.RUNNING)
    job = job_for(b"phone\n2025550101\n")
    tasks.import_contacts.call(job_id=job.pk)
    (first,) = queued(WATCH_TASK)
    recovery.watch(token=first["token"])  # takes the lease and queues its successor
    tasks.import_contacts.call(job_id=job.pk)
    assert queued(WATCH_TASK) == [first, first]


def test_the_worker_that_lost_the_import_to_another_ends_quietly(monkeypatch):
    """A stalled worker that was only slow: another worker committed a batch from the same
    offset meanwhile. This one's batch is refused and rolled back; the job goes on."""
    monkeypatch.setattr(importer, "BATCH_ROWS", 1)
    job = job_for(b"phone\n2025550101\n2025550102\n")
    real_write = writer.write_batch

    def another_worker_went_first(**kwargs):
        ImportJob.objects.filter(pk=job.pk).update(
            offset_bytes=F("offset_bytes") + 1, rows_read=F("rows_read") + 1
        )
        real_write(**kwargs)

    monkeypatch.setattr(writer, "write_batch", another_worker_went_first)
    assert importing.run_import_chunk(job_id=job.pk) is False
    job.refresh_from_db()
    assert (job.status, job.failure) == (ImportJob.Status.RUNNING, "")
    assert job.rows_read == 1  # only the other worker's batch counts
    assert not Contact.objects.exists()  # this worker's batch was rolled back
    assert job.file  # the other worker still reads it


def test_the_page_says_a_stalled_import_is_being_taken_over(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING, heartbeat_at=stale(), next_row=7)
    html = viewer_client.get(job.get_absolute_url()).content.decode()
    assert "Stalled" in html
    assert "Another worker takes it over as soon as one is free and goes on from row 7" in html


def test_the_page_says_a_long_queued_import_waits_for_a_worker(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.QUEUED, heartbeat_at=stale())
    html = viewer_client.get(job.get_absolute_url()).content.decode()
    assert "Still waiting for a worker: every worker is busy, or none is running." in html
    assert "Stalled" not in html
