"""An import job's status: started once, finished once."""

import pytest

from campaigns.models import ImportJob
from tests.factories import ImportJobFactory

pytestmark = pytest.mark.django_db


def test_it_starts_a_queued_job():
    job = ImportJobFactory()

    job.start()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert job.started_at is not None


def test_it_keeps_the_start_time_of_a_running_job():
    job = ImportJobFactory()
    job.start()
    job.refresh_from_db()
    started_at = job.started_at

    job.start()

    job.refresh_from_db()
    assert (job.status, job.started_at) == (ImportJob.Status.RUNNING, started_at)


def test_it_completes_a_job():
    job = ImportJobFactory(status=ImportJob.Status.RUNNING)

    job.finish()

    job.refresh_from_db()
    assert (job.status, job.failure) == (ImportJob.Status.COMPLETED, "")
    assert job.finished_at is not None


def test_it_fails_a_job_with_the_reason():
    job = ImportJobFactory(status=ImportJob.Status.RUNNING)

    job.finish(failure="Row 4: boom.")

    job.refresh_from_db()
    assert (job.status, job.failure) == (ImportJob.Status.FAILED, "Row 4: boom.")


@pytest.mark.parametrize("status", [ImportJob.Status.COMPLETED, ImportJob.Status.FAILED])
def test_it_leaves_a_finished_job_as_it_ended(status):
    job = ImportJobFactory(status=status, failure="")

    job.finish(failure="late")
    job.start()

    job.refresh_from_db()
    assert (job.status, job.failure) == (status, "")
