import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign
from tests.conftest import HTMX, url_for
from tests.factories import CampaignFactory, ChannelFactory


@pytest.fixture
def campaign(manager):
    campaign = CampaignFactory(name="Spring")
    channel = ChannelFactory(campaign=campaign)
    channel.start(by=manager)
    channel.stop(by=manager)
    campaign.refresh_from_db()
    return campaign


url = url_for("campaigns:archive")


def test_it_asks_for_confirmation_on_get(manager_client, campaign):
    response = manager_client.get(url(campaign))
    assert response.status_code == 200
    assert "Every piece of its data is kept" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED


def test_it_archives_a_completed_campaign(manager_client, campaign):
    response = manager_client.post(url(campaign))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ARCHIVED
    assert campaign.archived_at is not None
    assert ActivityEvent.objects.filter(action="archive", campaign=campaign).exists()
    # It leaves the main list and is listed under Archived, with its channels.
    listed = manager_client.get(reverse("campaigns:list")).context["page"]
    assert campaign not in list(listed)
    archived = manager_client.get(reverse("campaigns:list"), {"status": "archived"})
    assert list(archived.context["page"]) == [campaign]
    assert campaign.channels.count() == 1


def test_it_returns_the_live_partial_for_htmx(manager_client, campaign):
    response = manager_client.post(url(campaign), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="campaign-status">Archived<' in html
    assert ">Unarchive</button>" in html


def test_it_is_harmless_to_repeat(manager_client, campaign):
    manager_client.post(url(campaign))
    response = manager_client.post(url(campaign), headers=HTMX)
    assert response.status_code == 200
    assert "This campaign is already archived." in response.content.decode()
    assert ActivityEvent.objects.filter(action="archive").count() == 1


def test_it_refuses_an_active_campaign_with_409(manager_client, manager):
    active = CampaignFactory()
    ChannelFactory(campaign=active).start(by=manager)
    response = manager_client.post(url(active), headers=HTMX)
    assert response.status_code == 409
    assert (
        "Only a completed campaign can be archived; this one is active."
        in response.content.decode()
    )
    active.refresh_from_db()
    assert active.status == Campaign.Status.ACTIVE


def test_it_says_why_on_get_with_the_models_words(manager_client, manager):
    active = CampaignFactory()
    ChannelFactory(campaign=active).start(by=manager)
    response = manager_client.get(url(active))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert">Only a completed campaign can be archived; this one is active.<' in html
    assert ">Archive</button>" not in html


def test_it_refuses_other_methods(manager_client, campaign):
    assert manager_client.put(url(campaign)).status_code == 405


def test_it_forbids_a_viewer(viewer_client, campaign):
    assert viewer_client.get(url(campaign)).status_code == 403
    assert viewer_client.post(url(campaign)).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED


def test_it_requires_sign_in(client, campaign):
    assert client.post(url(campaign)).url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_campaign(manager_client):
    assert manager_client.post(reverse("campaigns:archive", args=[999999])).status_code == 404
