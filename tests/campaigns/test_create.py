import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign
from tests.factories import ContactListFactory

URL = reverse("campaigns:create")


@pytest.fixture
def contact_list(db):
    return ContactListFactory(name="Donors", size=2)


def test_it_shows_the_form(manager_client, contact_list):
    response = manager_client.get(URL)
    assert response.status_code == 200
    assert "Donors (2 contacts)" in response.content.decode()


def test_it_creates_a_draft_campaign(manager_client, manager, contact_list):
    data = {"name": "Spring", "description": "Ask again.", "contact_list": contact_list.pk}
    response = manager_client.post(URL, data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("campaigns:add_channel", args=[campaign.pk])
    assert (campaign.name, campaign.contact_list, campaign.created_by) == (
        "Spring",
        contact_list,
        manager,
    )
    assert campaign.status == Campaign.Status.DRAFT
    assert ActivityEvent.objects.filter(action="create", campaign=campaign).exists()


def test_it_shows_errors_next_to_the_fields(manager_client, contact_list):
    response = manager_client.post(URL, {"name": "", "contact_list": ""})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"name", "contact_list"}
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Campaign.objects.exists()


def test_it_forbids_a_viewer(viewer_client, contact_list):
    assert viewer_client.get(URL).status_code == 403
    data = {"name": "Spring", "contact_list": contact_list.pk}
    assert viewer_client.post(URL, data).status_code == 403
    assert not Campaign.objects.exists()


def test_it_requires_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
