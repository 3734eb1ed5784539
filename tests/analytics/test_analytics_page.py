"""The Analytics page of a campaign, its polled figures partial and its query count."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import Channel, Delivery
from tests.conftest import HTMX, url_for
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactListFactory,
    build_ledger,
    put_channel_in,
)

pytestmark = pytest.mark.django_db

url_of = url_for("campaigns:analytics")


def finished_voice_channel(**kwargs) -> Channel:
    channel = ChannelFactory(kind=Channel.Kind.AI_VOICE, **kwargs)
    build_ledger(
        channel,
        [(Delivery.State.DONE, "answered", True)]
        + [(Delivery.State.DONE, "no_answer")] * 3
        + [(Delivery.State.FAILED, "failed")],
    )
    return put_channel_in(channel, Channel.Status.COMPLETED, audience_size=5)


def test_it_shows_the_figures_charts_and_tables(viewer_client):
    channel = finished_voice_channel()
    response = viewer_client.get(url_of(channel.campaign))
    assert response.status_code == 200
    html = response.content.decode()
    # The command center's Analytics tab, marked as the current one.
    assert response.templates[0].name == "campaigns/detail.html"
    assert f'href="/campaigns/{channel.campaign.pk}/analytics/" aria-current="page"' in html
    assert 'id="progress-chart"' in html and 'id="mix-chart"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/analytics.js" in html
    assert 'id="analytics-data"' in html
    assert "25.0%" in html  # 1 converted of 4 contacted
    assert '<tr data-outcome="no_answer"><th scope="row">No answer</th><td class="num">3' in html
    data = response.context["chart_data"]
    assert data["progress"][0]["data"][-1] == 5
    assert json.dumps(data["labels"])  # serialisable for json_script


def test_it_shows_a_dash_for_the_rate_before_anyone_is_contacted(viewer_client):
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=ContactListFactory(size=3)))
    html = viewer_client.get(url_of(channel.campaign)).content.decode()
    assert '<td class="num" data-figure="rate">—</td>' in html
    assert "No deliveries yet." in html


def test_it_polls_while_a_channel_runs(viewer_client):
    channel = ChannelFactory()
    put_channel_in(channel, Channel.Status.RUNNING)
    page = viewer_client.get(url_of(channel.campaign)).content.decode()
    assert 'hx-trigger="every 3s" data-poll-hidden="never"' in page
    response = viewer_client.get(url_of(channel.campaign), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="analytics-figures"')
    assert "<html" not in html


def test_it_polls_a_paused_channel_until_its_calls_in_flight_finish(viewer_client):
    channel = ChannelFactory(kind=Channel.Kind.AI_VOICE)
    build_ledger(channel, [(Delivery.State.SENDING, "")])
    put_channel_in(channel, Channel.Status.PAUSED)
    assert viewer_client.get(url_of(channel.campaign), headers=HTMX).status_code == 200
    Delivery.objects.filter(channel=channel).update(state="done", outcome="answered")
    from channels import dispatch

    dispatch.recount(channel_id=channel.pk)
    html = viewer_client.get(url_of(channel.campaign), headers=HTMX).content.decode()
    assert 'hx-trigger="every 15s"' in html  # back to the idle pace


def test_it_polls_slowly_while_nothing_runs_and_fast_once_a_channel_starts(viewer_client):
    channel = finished_voice_channel()
    response = viewer_client.get(url_of(channel.campaign), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="analytics-figures"' in html and 'hx-trigger="every 15s"' in html
    # Another manager starts a channel: the next slow poll brings the fast pace.
    other = ChannelFactory(campaign=channel.campaign)
    put_channel_in(other, Channel.Status.RUNNING)
    html = viewer_client.get(url_of(channel.campaign), headers=HTMX).content.decode()
    assert 'hx-trigger="every 3s"' in html


def test_it_shows_archived_campaigns_read_only(manager_client):
    channel = finished_voice_channel()
    channel.campaign.refresh_status()
    channel.campaign.archive()
    response = manager_client.get(url_of(channel.campaign))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Archived: read-only." in html
    assert "Remarket" not in html and "Upload conversions" not in html
    assert "Export results (CSV)" in html


def test_it_offers_remarketing_to_managers_only(client, manager, viewer):
    channel = finished_voice_channel()
    remarket = reverse("channels:remarket", args=[channel.pk])
    client.force_login(manager)
    assert remarket in client.get(url_of(channel.campaign)).content.decode()
    client.force_login(viewer)
    assert remarket not in client.get(url_of(channel.campaign)).content.decode()


def test_it_shows_where_a_follow_up_came_from(viewer_client):
    source = finished_voice_channel()
    ChannelFactory(
        campaign=source.campaign,
        source_channel=source,
        source_outcomes=["no_answer", "voicemail"],
    )
    html = viewer_client.get(url_of(source.campaign)).content.decode()
    assert f"Follow-up of “{source.name}” (AI Voice) · no answer, voicemail" in html


def test_it_answers_404_for_a_missing_campaign(viewer_client):
    assert viewer_client.get("/campaigns/999999/analytics/").status_code == 404


def test_it_needs_the_view_permission(client):
    from tests.factories import UserFactory

    channel = ChannelFactory()
    client.force_login(UserFactory())
    assert client.get(url_of(channel.campaign)).status_code == 403


def test_it_sends_anonymous_users_to_the_login_page(client):
    channel = ChannelFactory()
    response = client.get(url_of(channel.campaign))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def partial_queries(client, campaign) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url_of(campaign), headers=HTMX)
    assert response.status_code == 200
    return len(captured)


def test_it_keeps_a_fixed_number_of_queries_whatever_the_ledger(viewer_client):
    small = ChannelFactory()
    build_ledger(small, [(Delivery.State.DONE, "delivered")] * 2)
    put_channel_in(small, Channel.Status.RUNNING)

    big_campaign = CampaignFactory()
    for kind in (Channel.Kind.AI_VOICE, Channel.Kind.SMS, Channel.Kind.EMAIL, Channel.Kind.SMS):
        channel = ChannelFactory(campaign=big_campaign, kind=kind)
        outcome = Channel.OUTCOMES[kind][0]
        build_ledger(channel, [(Delivery.State.DONE, outcome, True)] * 60)
        put_channel_in(channel, Channel.Status.RUNNING)
    ChannelFactory(campaign=big_campaign, source_channel=channel, source_outcomes=["sent"])

    partial_queries(viewer_client, small.campaign)  # warm the session and permission caches
    few = partial_queries(viewer_client, small.campaign)
    many = partial_queries(viewer_client, big_campaign)
    assert few == many
    # Session, user, the user's and the groups' permissions; then the campaign, its
    # channels (with their counters) and one grouped query for the progress series.
    assert many == 7


def test_it_only_answers_get(manager_client):
    channel = ChannelFactory()
    assert manager_client.post(url_of(channel.campaign)).status_code == 405


def test_it_says_whether_the_figures_are_final(viewer_client):
    source = finished_voice_channel()
    source.campaign.refresh_status()
    html = viewer_client.get(url_of(source.campaign)).content.decode()
    assert "Every channel has finished: these figures are final." in html
    assert "final figures so far" not in html
    paused = put_channel_in(ChannelFactory(campaign=source.campaign), Channel.Status.PAUSED)
    paused.campaign.refresh_status()
    html = viewer_client.get(url_of(source.campaign)).content.decode()
    assert "Nothing is running now: these figures change again when a channel" in html
