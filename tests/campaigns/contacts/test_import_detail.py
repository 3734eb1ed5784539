"""An import's page and the progress it polls."""

import pytest
from django.urls import reverse

from campaigns.models import ImportJob
from tests.factories import ImportJobFactory

pytestmark = pytest.mark.django_db


def detail_url(job) -> str:
    return reverse("contacts:import_detail", args=[job.pk])


def test_it_polls_while_the_import_runs(viewer_client):
    job = ImportJobFactory(
        status=ImportJob.Status.RUNNING, rows_read=10, rows_imported=9, rows_rejected=1
    )
    response = viewer_client.get(detail_url(job), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="every 1s' in html
    assert 'data-count="read">10<' in html
    assert "<html" not in html


def test_it_stops_polling_when_the_import_ends(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.COMPLETED, rows_read=10, rows_imported=10)
    response = viewer_client.get(detail_url(job), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert response["HX-Trigger"] == '{"importFinished": {}}'
    html = response.content.decode()
    assert "hx-trigger" not in html
    # Nothing rejected: no "Download the report (0 rejected rows)".
    assert "Download the report" not in html
    assert "Every row was imported" in html


def test_it_offers_the_report_when_rows_were_rejected(viewer_client):
    job = ImportJobFactory(
        status=ImportJob.Status.COMPLETED, rows_read=10, rows_imported=9, rows_rejected=1
    )
    html = viewer_client.get(detail_url(job)).content.decode()
    assert "Download the report" in html and "1 rejected row)" in html
    assert "Every row was imported" not in html


def test_it_is_linked_from_the_list_page(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING)
    response = viewer_client.get(job.contact_list.get_absolute_url())
    assert detail_url(job) in response.content.decode()


def test_it_renders_without_htmx(viewer_client):
    job = ImportJobFactory(status=ImportJob.Status.FAILED, failure="Row 4: boom.", rows_read=2)
    response = viewer_client.get(detail_url(job))
    assert response.status_code == 200
    assert "This import failed. Row 4: boom." in response.content.decode()


def test_it_is_404_for_a_missing_job(viewer_client):
    assert viewer_client.get(reverse("contacts:import_detail", args=[999])).status_code == 404
