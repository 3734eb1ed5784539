"""The Providers page (`channels:providers`): each kind's provider, settings and webhooks."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels.models import ProviderEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("channels:providers")


def event(provider: str, event_id: str, *, age: timedelta = timedelta(0), **fields):
    return ProviderEvent.objects.create(
        provider=provider, event_id=event_id, received_at=timezone.now() - age, **fields
    )


def test_it_says_the_simulated_providers_send_nothing(viewer_client):
    response = viewer_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Simulated: no messages leave Herald") == 3
    for label in ("AI Voice", "SMS Blast", "Email"):
        assert f">{label}</h2>" in html
    assert html.count("No event yet.") == 3
    assert "HERALD_VOICE_PROVIDER" in html


def test_it_links_the_page_from_the_navigation(viewer_client):
    html = viewer_client.get(URL).content.decode()
    assert f'<a href="{URL}" aria-current="page">Providers</a>' in html


def test_it_names_missing_settings_never_their_values(viewer_client, use_provider, settings):
    use_provider("tests.providers.ConfiguredProvider")
    settings.HERALD_TEST_PROVIDER_KEY = "key-that-must-not-show"
    settings.HERALD_TEST_PROVIDER_SECRET = ""
    html = viewer_client.get(URL).content.decode()
    assert html.count("Incomplete") == 3
    assert "HERALD_TEST_PROVIDER_SECRET" in html
    assert "HERALD_TEST_PROVIDER_KEY" not in html
    assert "key-that-must-not-show" not in html
    assert "Simulated" not in html


def test_it_says_when_the_settings_are_complete(viewer_client, use_provider, settings):
    use_provider("tests.providers.ConfiguredProvider")
    settings.HERALD_TEST_PROVIDER_KEY = "secret-key"
    settings.HERALD_TEST_PROVIDER_SECRET = "secret-value"
    html = viewer_client.get(URL).content.decode()
    assert html.count("Every required setting is set.") == 3
    assert "secret-key" not in html and "secret-value" not in html


def test_it_shows_the_webhook_urls_to_paste(viewer_client, use_provider, settings):
    use_provider("tests.providers.ConfiguredProvider")
    settings.HERALD_PUBLIC_URL = "https://herald.example.org"
    html = viewer_client.get(URL).content.decode()
    assert html.count('readonly value="https://herald.example.org/health/"') == 3


def test_it_shows_the_last_event_and_the_recent_count(viewer_client, use_provider):
    use_provider("tests.providers.ConfiguredProvider")
    event("configured", "old", age=timedelta(days=2), status="queued")
    event("configured", "a", age=timedelta(hours=1), status="sent")
    event("configured", "b", status="delivered", result=ProviderEvent.Result.APPLIED)
    event("simulated", "other", status="failed")
    response = viewer_client.get(URL)
    html = response.content.decode()
    assert html.count("delivered, Applied.") == 3
    assert html.count("2 events in the last 24 hours.") == 3
    assert "failed" not in html


def test_it_reads_a_fixed_number_of_queries(viewer_client, use_provider):
    use_provider("tests.providers.ConfiguredProvider")
    viewer_client.get(URL)
    with CaptureQueriesContext(connection) as few:
        viewer_client.get(URL)
    for n in range(30):
        event("configured", f"e{n}", age=timedelta(minutes=n), status="sent")
    with CaptureQueriesContext(connection) as many:
        viewer_client.get(URL)
    assert len(many) == len(few)
    assert len(few) <= 6  # session, user, permissions, the latest event, the count


def test_it_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_refuses_a_post(viewer_client):
    assert viewer_client.post(URL).status_code == 405


def test_it_is_403_without_a_role(client):
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403
