"""The contact lists page."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from campaigns.models import ImportJob
from tests.factories import CampaignFactory, ContactListFactory, ImportJobFactory

pytestmark = pytest.mark.django_db

STALE = datetime(2020, 1, 1, tzinfo=UTC)


def test_it_lists_lists_with_size_and_campaigns(viewer_client):
    used = ContactListFactory(name="Donors", size=3)
    CampaignFactory(name="Spring appeal", contact_list=used)
    ContactListFactory(name="Unused")
    response = viewer_client.get(reverse("contacts:lists"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Donors" in html and "Spring appeal" in html and "Unused" in html
    assert "No campaign" in html


@pytest.mark.parametrize(
    ("changes", "tag"),
    [
        ({"status": "running", "size_bytes": 100, "offset_bytes": 40}, "importing 40%"),
        ({"status": "running", "heartbeat_at": STALE}, "import stalled, being taken over"),
        ({"status": "failed"}, "import failed, can resume"),
        ({"status": "failed", "file": ""}, "import failed<"),
        ({"status": "cancelled", "file": ""}, "import cancelled"),
    ],
)
def test_it_says_how_the_latest_import_of_a_list_stands(viewer_client, changes, tag):
    earlier = ImportJobFactory(status=ImportJob.Status.COMPLETED)
    job = ImportJobFactory(contact_list=earlier.contact_list, **changes)
    html = viewer_client.get(reverse("contacts:lists")).content.decode()
    assert tag in html
    assert job.get_absolute_url() in html


def test_it_tags_nothing_when_the_latest_import_completed(viewer_client):
    running = ImportJobFactory(status=ImportJob.Status.RUNNING)
    ImportJobFactory(contact_list=running.contact_list, status=ImportJob.Status.COMPLETED)
    html = viewer_client.get(reverse("contacts:lists")).content.decode()
    assert "import" not in html.split("<tbody>")[1].split("</tbody>")[0]


def test_it_redirects_to_login(client):
    response = client.get(reverse("contacts:lists"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
