"""A person's own time zone (campaigns/preferences): the page, and every page after it."""

import pytest
from django.urls import reverse

from campaigns.models import Preferences
from tests.factories import CampaignFactory

url = reverse("preferences:edit")


def test_it_defaults_to_the_sites_zone(manager_client, settings):
    response = manager_client.get(url)
    assert response.status_code == 200
    assert f'<strong id="current-zone">{settings.TIME_ZONE}</strong>' in response.content.decode()
    assert not Preferences.objects.exists()  # made only when a zone is chosen


def test_it_saves_the_zone_and_shows_pages_in_it(manager_client, manager):
    response = manager_client.post(url, {"timezone": "America/Chicago"}, follow=True)
    assert response.status_code == 200
    assert Preferences.objects.get(user=manager).timezone == "America/Chicago"
    assert "Times are now shown in America/Chicago." in response.content.decode()
    campaign = CampaignFactory()
    page = manager_client.get(reverse("campaigns:list")).content.decode()
    assert 'Created <span class="muted zone-note">(America/Chicago)</span>' in page
    assert campaign.created_at.isoformat() in page
    detail = manager_client.get(campaign.get_absolute_url()).content.decode()
    assert 'times in <span class="zone-note">America/Chicago</span>' in detail
    assert "Times in America/Chicago." in detail  # by the activity log


def test_a_blank_choice_goes_back_to_the_sites_zone(manager_client, manager, settings):
    Preferences.set_zone(manager, "Asia/Tokyo")
    manager_client.post(url, {"timezone": ""})
    assert Preferences.zone_name_for(manager) == settings.TIME_ZONE
    page = manager_client.get(url).content.decode()
    assert f'<strong id="current-zone">{settings.TIME_ZONE}</strong>' in page


def test_it_refuses_an_unknown_zone(manager_client, manager):
    response = manager_client.post(url, {"timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "“Mars/Olympus” is not a time zone" in response.content.decode()
    assert not Preferences.objects.filter(user=manager).exists()


def test_a_viewer_sets_their_own_zone_too(viewer_client, viewer):
    assert viewer_client.post(url, {"timezone": "Europe/Paris"}).status_code == 302
    assert Preferences.zone_name_for(viewer) == "Europe/Paris"


def test_the_header_links_to_it_naming_the_zone(manager_client, manager):
    Preferences.set_zone(manager, "Europe/Paris")
    page = manager_client.get(reverse("campaigns:list")).content.decode()
    assert f'href="{url}" id="preferences-link"' in page
    assert "Times in Europe/Paris" in page


def test_it_needs_a_sign_in(client):
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_the_model_refuses_an_unknown_zone(manager):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="not a time zone"):
        Preferences.set_zone(manager, "Nowhere/Special")


def test_the_admin_refuses_an_unknown_zone(admin_client, manager):
    response = admin_client.post(
        reverse("admin:campaigns_preferences_add"), {"user": manager.pk, "timezone": "Mars/Base"}
    )
    assert response.status_code == 200
    assert "“Mars/Base” is not a time zone" in response.content.decode()
    assert not Preferences.objects.exists()
