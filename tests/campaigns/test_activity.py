from django.urls import reverse

from tests.conftest import HTMX
from tests.factories import CampaignFactory, ChannelFactory


def test_it_returns_the_activity_partial(manager_client, manager):
    campaign = CampaignFactory()
    ChannelFactory(campaign=campaign, name="Calls").start(by=manager)
    response = manager_client.get(reverse("campaigns:activity", args=[campaign.pk]), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="activity"')
    assert f"{manager.username}</strong> started channel “Calls”" in html


def test_it_is_readable_by_a_viewer(viewer_client):
    campaign = CampaignFactory()
    assert viewer_client.get(reverse("campaigns:activity", args=[campaign.pk])).status_code == 200


def test_it_requires_sign_in(client, db):
    campaign = CampaignFactory()
    response = client.get(reverse("campaigns:activity", args=[campaign.pk]))
    assert response.url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_campaign(manager_client):
    assert manager_client.get(reverse("campaigns:activity", args=[999999])).status_code == 404
