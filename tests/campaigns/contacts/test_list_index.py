"""The contact lists page."""

import pytest
from django.urls import reverse

from campaigns.models import ImportJob
from tests.factories import CampaignFactory, ContactListFactory, ImportJobFactory

pytestmark = pytest.mark.django_db


def test_it_lists_lists_with_size_and_campaigns(viewer_client):
    used = ContactListFactory(name="Donors", size=3)
    CampaignFactory(name="Spring appeal", contact_list=used)
    ContactListFactory(name="Unused")
    response = viewer_client.get(reverse("contacts:lists"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Donors" in html and "Spring appeal" in html and "Unused" in html
    assert "No campaign" in html


def test_it_tags_a_list_being_imported_into(viewer_client):
    running = ImportJobFactory(status=ImportJob.Status.RUNNING)
    ImportJobFactory(status=ImportJob.Status.COMPLETED)
    response = viewer_client.get(reverse("contacts:lists"))
    assert response.context["importing"] == {running.contact_list.pk}


def test_it_redirects_to_login(client):
    response = client.get(reverse("contacts:lists"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
