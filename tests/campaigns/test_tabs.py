"""The command center's tabs: Channels, Analytics and Activity on one page, the tab in the URL."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from campaigns.models import ActivityEvent
from tests.factories import CampaignFactory, ChannelFactory


def log(campaign, count):
    now = timezone.now()
    ActivityEvent.objects.bulk_create(
        ActivityEvent(
            campaign=campaign,
            action="edited",
            subject=f"event {n}",
            created_at=now - timedelta(minutes=count - n),
        )
        for n in range(1, count + 1)
    )


def current_tab(html: str) -> str:
    nav = html.split('class="section-tabs"')[1].split("</nav>")[0]
    return nav.split('aria-current="page">')[1].split("<")[0]


def test_each_tab_has_its_own_url_and_is_marked_current(viewer_client):
    campaign = CampaignFactory()
    ChannelFactory(campaign=campaign)
    pages = {
        "campaigns:detail": "Channels (1)",
        "campaigns:analytics": "Analytics",
        "campaigns:activity": "Activity",
    }
    for name, tab in pages.items():
        response = viewer_client.get(reverse(name, args=[campaign.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert current_tab(html) == tab
        # Every tab keeps the campaign's header with its status.
        assert 'id="campaign-status"' in html and f"<h1>{campaign.name}</h1>" in html


def test_only_the_chosen_tab_is_rendered(viewer_client):
    campaign = CampaignFactory()
    ChannelFactory(campaign=campaign)
    channels = viewer_client.get(reverse("campaigns:detail", args=[campaign.pk])).content
    analytics = viewer_client.get(reverse("campaigns:analytics", args=[campaign.pk])).content
    activity = viewer_client.get(reverse("campaigns:activity", args=[campaign.pk])).content
    assert b'id="channels"' in channels and b'id="analytics-figures"' not in channels
    assert b'id="analytics-figures"' in analytics and b'id="channels"' not in analytics
    assert b'id="activity-log"' in activity and b'id="channels"' not in activity
    assert b'id="live"' not in analytics + activity  # only the Channels tab polls its cards


def test_the_channels_tab_shows_the_latest_ten_events_and_links_to_all(viewer_client):
    campaign = CampaignFactory()
    log(campaign, 12)
    html = viewer_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    recent = html.split('id="activity"')[1]
    assert "event 12" in recent and "event 3" in recent and "event 2<" not in recent
    assert f'href="{reverse("campaigns:activity", args=[campaign.pk])}">All activity' in recent


def test_the_activity_tab_pages_through_every_event_newest_first(viewer_client):
    campaign = CampaignFactory()
    log(campaign, 60)
    url = reverse("campaigns:activity", args=[campaign.pk])
    first = viewer_client.get(url).content.decode()
    assert "60 events, newest first" in first
    assert first.index("event 60<") < first.index("event 59<")
    assert "event 11<" in first and "event 10<" not in first  # 50 a page
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = viewer_client.get(url, {"page": 2}).content.decode()
    assert "event 10<" in second and "event 1<" in second and "event 11<" not in second


def test_the_activity_tab_takes_a_bad_page_number_as_the_first_or_last(viewer_client):
    campaign = CampaignFactory()
    log(campaign, 3)
    url = reverse("campaigns:activity", args=[campaign.pk])
    assert "event 3<" in viewer_client.get(url, {"page": "x"}).content.decode()
    assert "event 1<" in viewer_client.get(url, {"page": "99"}).content.decode()


def test_the_activity_tab_refuses_a_post(manager_client):
    campaign = CampaignFactory()
    response = manager_client.post(reverse("campaigns:activity", args=[campaign.pk]))
    assert response.status_code == 405


def test_the_activity_tab_reads_a_fixed_number_of_queries(
    viewer_client, django_assert_max_num_queries
):
    campaign = CampaignFactory()
    log(campaign, 60)
    with django_assert_max_num_queries(12):
        viewer_client.get(reverse("campaigns:activity", args=[campaign.pk]))


def test_a_person_without_a_role_is_refused_every_tab(client, django_user_model):
    campaign = CampaignFactory()
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    for name in ("campaigns:detail", "campaigns:analytics", "campaigns:activity"):
        assert client.get(reverse(name, args=[campaign.pk])).status_code == 403


def test_every_tab_answers_404_for_an_unknown_campaign(viewer_client):
    for name in ("campaigns:detail", "campaigns:analytics", "campaigns:activity"):
        assert viewer_client.get(reverse(name, args=[999_999])).status_code == 404
