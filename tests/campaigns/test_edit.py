import pytest
from django.urls import reverse

from tests.conftest import url_for
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="Spring")


url = url_for("campaigns:edit")


def test_it_saves_the_changes(manager_client, campaign):
    other = ContactListFactory()
    data = {"name": "Spring appeal", "description": "New", "contact_list": other.pk}
    response = manager_client.post(url(campaign), data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.contact_list) == ("Spring appeal", other)


def test_it_keeps_the_list_once_a_channel_started(manager_client, campaign, manager):
    ChannelFactory(campaign=campaign).start(by=manager)
    original = campaign.contact_list
    data = {"name": "Renamed", "contact_list": ContactListFactory().pk}
    manager_client.post(url(campaign), data)
    campaign.refresh_from_db()
    assert (campaign.name, campaign.contact_list) == ("Renamed", original)


def test_it_shows_errors(manager_client, campaign):
    response = manager_client.post(url(campaign), {"name": ""})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors


def test_it_forbids_a_viewer(viewer_client, campaign):
    assert viewer_client.get(url(campaign)).status_code == 403


def test_it_requires_sign_in(client, campaign):
    assert client.get(url(campaign)).url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_campaign(manager_client):
    assert manager_client.get(reverse("campaigns:edit", args=[999999])).status_code == 404


@pytest.fixture
def archived(archived_campaign):
    return archived_campaign


def test_it_refuses_to_edit_an_archived_campaign_with_409(manager_client, archived):
    data = {"name": "Renamed", "description": "New", "contact_list": archived.contact_list.pk}
    response = manager_client.post(url(archived), data)
    assert response.status_code == 409
    assert "This campaign is archived; unarchive it first." in response.content.decode()
    archived.refresh_from_db()
    assert (archived.name, archived.description) == ("Old", "")


def test_it_says_so_on_get_for_an_archived_campaign(manager_client, archived):
    response = manager_client.get(url(archived))
    assert response.status_code == 409
    assert "This campaign is archived; unarchive it first." in response.content.decode()
