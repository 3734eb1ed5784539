import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign
from tests.conftest import HTMX, url_for


@pytest.fixture
def campaign(archived_campaign):
    return archived_campaign


url = url_for("campaigns:unarchive")


def test_it_brings_the_campaign_back_as_completed(manager_client, campaign):
    response = manager_client.post(url(campaign))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert campaign.archived_at is None
    assert campaign in list(manager_client.get(reverse("campaigns:list")).context["page"])


def test_it_returns_the_live_partial_for_htmx(manager_client, campaign):
    response = manager_client.post(url(campaign), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="campaign-status">Completed<' in html
    assert ">Archive</button>" in html


def test_it_is_harmless_to_repeat(manager_client, campaign):
    manager_client.post(url(campaign))
    response = manager_client.post(url(campaign), headers=HTMX)
    # An unarchive of a campaign that is not archived is always "already done".
    assert response.status_code == 200
    assert "This campaign is not archived." in response.content.decode()
    assert ActivityEvent.objects.filter(action="unarchive").count() == 1


def test_it_refuses_get(manager_client, campaign):
    assert manager_client.get(url(campaign)).status_code == 405


def test_it_forbids_a_viewer(viewer_client, campaign):
    assert viewer_client.post(url(campaign)).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ARCHIVED


def test_it_requires_sign_in(client, campaign):
    assert client.post(url(campaign)).url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_campaign(manager_client):
    assert manager_client.post(reverse("campaigns:unarchive", args=[999999])).status_code == 404
