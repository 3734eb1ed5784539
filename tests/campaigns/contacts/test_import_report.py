"""Downloading an import's error report."""

import csv
import io

import pytest
from django.urls import reverse

from campaigns.contacts import importing
from campaigns.models import ImportJob
from tests.factories import ImportJobFactory

from .files import job_for

pytestmark = pytest.mark.django_db


def report_url(job) -> str:
    return reverse("contacts:import_report", args=[job.pk])


def test_it_downloads_the_error_report(viewer_client):
    job = job_for(b"name,phone,=evil\nAnn,2025550101,\nBob,nope,\n,,x\n")
    importing.run_import_chunk(job_id=job.pk)
    response = viewer_client.get(report_url(job))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}-errors.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["row", "column", "reason"],
        ["3", "phone", "“nope” is not a phone number."],
        ["4", "phone", "The row has no phone number or email address."],
    ]


def test_it_says_where_a_failed_import_stopped(viewer_client):
    job = ImportJobFactory(
        status=ImportJob.Status.FAILED, next_row=2002, failure="Row 2002: boom."
    )
    text = b"".join(viewer_client.get(report_url(job)).streaming_content).decode()
    assert "2002,,The import stopped here: Row 2002: boom." in text


def test_it_is_404_for_a_missing_job(viewer_client):
    assert viewer_client.get(reverse("contacts:import_report", args=[999])).status_code == 404
