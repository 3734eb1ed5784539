"""An import whose worker is killed (SIGKILL) is taken over by another worker and finishes,
with every row imported once (SPEC section 6: a long job survives its worker)."""

import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from campaigns.contacts import tasks
from campaigns.models import Contact, ImportJob, Membership
from tests.channels.workers import Workers
from tests.factories import ImportJobFactory, ManagerFactory

pytestmark = [pytest.mark.workers, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 40_000
STALL_SECONDS = 2


def big_csv() -> bytes:
    lines = ["name,phone,email"]
    lines += [
        f"Person {i},(202) {200 + i // 10_000:03d}-{i % 10_000:04d},p{i}@example.com"
        for i in range(ROWS)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def workers(tmp_path, settings):
    pool = Workers(
        tmp_path,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        HERALD_IMPORT_STALL_SECONDS=str(STALL_SECONDS),
    )
    yield pool
    pool.stop_all()


def wait_for(predicate, *, timeout: float, workers: Workers):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s; worker logs:\n{workers.logs()}")


def job_now(job: ImportJob) -> ImportJob:
    job.refresh_from_db()
    return job


def test_a_killed_workers_import_is_taken_over_and_finishes(workers, settings, client):
    settings.HERALD_IMPORT_STALL_SECONDS = STALL_SECONDS
    data = big_csv()
    job = ImportJobFactory(file=ContentFile(data, name="big.csv"), size_bytes=len(data))
    upload_path = job.file.path
    tasks.queue_import(job_id=job.pk)
    (first,) = workers.start(1)

    wait_for(lambda: job_now(job).rows_read >= 4_000, timeout=120, workers=workers)
    workers.kill(first)
    killed_at = job_now(job).rows_read
    assert 0 < killed_at < ROWS, "the worker must die in the middle of the import"
    assert job.status == ImportJob.Status.RUNNING

    # With no worker alive the import stalls, says so, and stays where it was.
    wait_for(lambda: job_now(job).is_stalled, timeout=STALL_SECONDS * 5, workers=workers)
    assert job.rows_read == killed_at
    client.force_login(ManagerFactory())
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Stalled: no worker has worked on this import since" in page
    assert f'action="{reverse("contacts:import_cancel", args=[job.pk])}"' in page

    workers.start(2)
    wait_for(lambda: job_now(job).is_finished, timeout=240, workers=workers)
    assert job.status == ImportJob.Status.COMPLETED, workers.logs()
    assert job.takeovers >= 1
    assert (job.rows_read, job.rows_imported, job.rows_rejected) == (ROWS, ROWS, 0)
    assert job.offset_bytes == len(data)
    job.contact_list.refresh_from_db()
    assert job.contact_list.size == ROWS
    assert Membership.objects.filter(contact_list=job.contact_list).count() == ROWS
    assert Contact.objects.count() == ROWS
    # Imported, so its upload is gone.
    assert not job.file
    assert not Path(upload_path).exists()
