import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign, Contact, Membership
from channels.models import Channel, Delivery
from tests.conftest import url_for
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory, DeliveryFactory


@pytest.fixture
def campaign(manager):
    contact_list = ContactListFactory(size=3)
    campaign = CampaignFactory(name="Spring", contact_list=contact_list)
    calls = ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE)
    ChannelFactory(campaign=campaign)
    calls.start(by=manager)
    for contact in contact_list.contacts.all():
        DeliveryFactory(channel=calls, contact=contact, outcome="answered")
    calls.pause(by=manager)
    return campaign


url = url_for("campaigns:delete")


def test_it_names_what_will_be_removed(manager_client, campaign):
    response = manager_client.get(url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>2</strong> channels" in html
    assert "<strong>3</strong> deliveries" in html
    assert "<strong>3</strong> contacts" in html
    assert "The contacts themselves stay" in html
    assert ">Delete Campaign</button>" in html


def test_it_deletes_everything_but_the_contacts(manager_client, campaign):
    response = manager_client.post(url(campaign), follow=True)
    assert response.redirect_chain[-1][0] == reverse("campaigns:list")
    assert "Campaign “Spring” and its channels are deleted." in response.content.decode()
    assert not Campaign.objects.exists()
    assert not Channel.objects.exists()
    assert not Delivery.objects.exists()
    assert Contact.objects.count() == 3
    assert Membership.objects.count() == 3
    assert ActivityEvent.objects.filter(action="delete", campaign=None).exists()


def test_it_refuses_while_a_channel_runs(manager_client, campaign, manager):
    campaign.channels.get(kind=Channel.Kind.AI_VOICE).resume(by=manager)
    page = manager_client.get(url(campaign)).content.decode()
    assert "Stop or pause its running channels" in page
    assert "<button" not in page.split("<main")[1].split("</main>")[0]
    response = manager_client.post(url(campaign))
    assert response.status_code == 409
    assert "Stop or pause its running channels before deleting" in response.content.decode()
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_it_is_harmless_to_repeat(manager_client, campaign):
    manager_client.post(url(campaign))
    assert manager_client.post(url(campaign)).status_code == 404
    assert Contact.objects.count() == 3


def test_it_refuses_other_methods(manager_client, campaign):
    assert manager_client.put(url(campaign)).status_code == 405


def test_it_forbids_a_viewer(viewer_client, campaign):
    assert viewer_client.get(url(campaign)).status_code == 403
    assert viewer_client.post(url(campaign)).status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_it_requires_sign_in(client, campaign):
    assert client.post(url(campaign)).url.startswith(reverse("login"))
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_it_answers_404_for_an_unknown_campaign(manager_client):
    assert manager_client.get(reverse("campaigns:delete", args=[999999])).status_code == 404
