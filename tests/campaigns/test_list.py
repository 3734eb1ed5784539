import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign
from channels.models import Channel
from tests.conftest import HTMX
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

URL = reverse("campaigns:list")


def names(response) -> list[str]:
    return [campaign.name for campaign in response.context["page"]]


@pytest.fixture
def campaigns(manager):
    draft = CampaignFactory(name="Alpha draft", created_by=manager)
    ChannelFactory(campaign=draft, kind=Channel.Kind.EMAIL)
    active = CampaignFactory(name="Beta active")
    ChannelFactory(campaign=active, kind=Channel.Kind.AI_VOICE).start(by=manager)
    completed = CampaignFactory(name="Gamma completed")
    finished = ChannelFactory(campaign=completed)
    finished.start(by=manager)
    finished.stop(by=manager)
    archived = CampaignFactory(name="Delta archived")
    old = ChannelFactory(campaign=archived)
    old.start(by=manager)
    old.stop(by=manager)
    archived.archive(by=manager)
    return {"draft": draft, "active": active, "completed": completed, "archived": archived}


def test_it_lists_every_campaign_but_the_archived(manager_client, campaigns):
    response = manager_client.get(URL)
    assert response.status_code == 200
    assert sorted(names(response)) == ["Alpha draft", "Beta active", "Gamma completed"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("draft", ["Alpha draft"]),
        ("active", ["Beta active"]),
        ("completed", ["Gamma completed"]),
        ("archived", ["Delta archived"]),
    ],
)
def test_it_filters_by_status(manager_client, campaigns, status, expected):
    assert names(manager_client.get(URL, {"status": status})) == expected


def test_it_treats_an_unknown_status_as_all(manager_client, campaigns):
    response = manager_client.get(URL, {"status": "bogus"})
    assert response.status_code == 200
    assert len(names(response)) == 3


def test_it_searches_by_name(manager_client, campaigns):
    assert names(manager_client.get(URL, {"q": "beta"})) == ["Beta active"]
    assert names(manager_client.get(URL, {"q": "delta"})) == []
    assert names(manager_client.get(URL, {"q": "delta", "status": "archived"})) == [
        "Delta archived"
    ]


def test_it_sorts(manager_client, campaigns):
    assert names(manager_client.get(URL, {"sort": "name"})) == [
        "Alpha draft",
        "Beta active",
        "Gamma completed",
    ]
    assert names(manager_client.get(URL, {"sort": "-name"}))[0] == "Gamma completed"
    assert names(manager_client.get(URL, {"sort": "status"})) == [
        "Alpha draft",
        "Beta active",
        "Gamma completed",
    ]
    assert names(manager_client.get(URL))[0] == "Gamma completed"  # newest first
    assert names(manager_client.get(URL, {"sort": "created"}))[0] == "Alpha draft"


def test_it_paginates(manager_client):
    CampaignFactory.create_batch(30)
    first = manager_client.get(URL)
    second = manager_client.get(URL, {"page": 2})
    assert len(names(first)) == 25
    assert len(names(second)) == 5
    assert not set(names(first)) & set(names(second))
    assert "Page 1 of 2" in first.content.decode()


def test_it_shows_status_channels_progress_and_creator(manager_client, campaigns, manager):
    html = manager_client.get(URL).content.decode()
    assert '<span class="badge status-active">Active</span>' in html
    assert 'AI Voice <span class="chip-status status-running">Running</span>' in html
    assert 'Email <span class="chip-status status-ready">Ready</span>' in html
    assert f"by {manager.username}" in html
    assert 'aria-label="Progress of Alpha draft"' in html


def test_it_computes_overall_progress_across_channels(manager_client, manager):
    campaign = CampaignFactory(name="Half", contact_list=ContactListFactory(size=4))
    done = ChannelFactory(campaign=campaign)
    done.start(by=manager)
    Channel.objects.filter(pk=done.pk).update(processed=4)
    ChannelFactory(campaign=campaign)  # not started: counts as the list's 4 contacts
    response = manager_client.get(URL)
    assert '<progress max="100" value="50"' in response.content.decode()


def test_it_returns_only_the_results_for_htmx(manager_client, campaigns):
    response = manager_client.get(URL, {"status": "archived"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "<form" not in html
    assert "Delta archived" in html
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]


def test_it_returns_the_whole_page_for_a_history_restore(manager_client, campaigns):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    assert "<html" in manager_client.get(URL, headers=headers).content.decode()


def test_it_offers_a_manager_a_new_campaign(manager_client, campaigns):
    assert "New campaign" in manager_client.get(URL).content.decode()


def test_it_shows_a_viewer_the_list_without_new_campaign(viewer_client, campaigns):
    response = viewer_client.get(URL)
    assert response.status_code == 200
    assert len(names(response)) == 3
    assert "New campaign" not in response.content.decode()


def test_it_requires_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def count_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"status": "active"}, {"q": "a", "sort": "status"}])
def test_it_uses_a_fixed_number_of_queries(manager_client, manager, params):
    campaign = CampaignFactory(name="a first")
    ChannelFactory(campaign=campaign).start(by=manager)
    count_queries(manager_client)
    few = count_queries(manager_client, **params)
    for index in range(12):
        campaign = CampaignFactory(name=f"a campaign {index}", created_by=manager)
        for kind in Channel.Kind:
            channel = ChannelFactory(campaign=campaign, kind=kind)
            if index % 2:
                channel.start(by=manager)
    assert Campaign.objects.count() == 13
    assert count_queries(manager_client, **params) == few


def test_it_sorts_a_search_by_creation_across_pages(manager_client):
    for index in range(30):
        CampaignFactory(name=f"Spring {index:02}")
        CampaignFactory(name=f"Autumn {index:02}")
    newest = names(manager_client.get(URL, {"q": "spring"}))
    assert newest == [f"Spring {index:02}" for index in range(29, 4, -1)]
    rest = names(manager_client.get(URL, {"q": "spring", "page": 2}))
    assert rest == [f"Spring {index:02}" for index in range(4, -1, -1)]
    oldest = names(manager_client.get(URL, {"q": "SPRING", "sort": "created"}))
    assert oldest[:3] == ["Spring 00", "Spring 01", "Spring 02"]


@pytest.mark.postgres
def test_it_searches_names_through_a_trigram_index_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'campaign_name_search_idx'"
        )
        [(definition,)] = cursor.fetchall()
    # The expression Django's icontains compares, or the planner cannot use it.
    assert "upper((name)::text) gin_trgm_ops" in definition
