import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign
from channels.models import Channel
from tests.conftest import HTMX, url_for
from tests.factories import ChannelFactory


@pytest.fixture
def channel(manager):
    channel = ChannelFactory(name="Texts")
    channel.start(by=manager)
    return channel


url = url_for("channels:stop")


def test_it_asks_for_confirmation_on_get(manager_client, channel):
    response = manager_client.get(url(channel))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stopping is permanent." in html
    assert f'<form method="post" action="{url(channel)}"' in html
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING


def test_it_stops_the_channel(manager_client, channel):
    response = manager_client.post(url(channel))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.status == Channel.Status.STOPPED
    assert channel.finished_at is not None
    channel.campaign.refresh_from_db()
    assert channel.campaign.status == Campaign.Status.COMPLETED


def test_it_stops_a_paused_channel(manager_client, channel, manager):
    channel.pause(by=manager)
    manager_client.post(url(channel))
    channel.refresh_from_db()
    assert channel.status == Channel.Status.STOPPED


def test_it_returns_the_card_without_buttons(manager_client, channel):
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert ">Stopped<" in html
    assert "<button" not in html.split('id="channel-')[1].split("</article>")[0]


def test_the_card_button_confirms_before_stopping(manager_client, channel):
    html = manager_client.get(reverse("campaigns:detail", args=[channel.campaign_id])).content
    html = html.decode()
    assert f'<form method="get" action="{url(channel)}" hx-post="{url(channel)}"' in html
    assert 'hx-confirm="Stop “Texts”? Stopping is permanent' in html


def test_it_is_harmless_to_repeat(manager_client, channel):
    manager_client.post(url(channel))
    response = manager_client.post(url(channel), headers=HTMX)
    assert response.status_code == 200
    assert "This channel is already stopped." in response.content.decode()
    assert ActivityEvent.objects.filter(action="stop").count() == 1


def test_it_refuses_a_ready_channel_with_409(manager_client):
    ready = ChannelFactory()
    response = manager_client.post(url(ready), headers=HTMX)
    assert response.status_code == 409
    assert "A ready channel cannot be stopped." in response.content.decode()
    ready.refresh_from_db()
    assert ready.status == Channel.Status.READY


def test_it_refuses_other_methods(manager_client, channel):
    assert manager_client.put(url(channel)).status_code == 405


def test_it_forbids_a_viewer(viewer_client, channel):
    assert viewer_client.get(url(channel)).status_code == 403
    assert viewer_client.post(url(channel)).status_code == 403
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING


def test_it_requires_sign_in(client, channel):
    response = client.post(url(channel))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_channel(manager_client):
    assert manager_client.post(reverse("channels:stop", args=[999999])).status_code == 404
    assert manager_client.get(reverse("channels:stop", args=[999999])).status_code == 404


def review_ledger(channel):
    """A running SMS channel of 10 contacts: 4 processed (2 delivered, 1 converted), 6 left."""
    from tests.factories import build_ledger

    build_ledger(
        channel,
        [
            ("done", "delivered", True),
            ("done", "delivered"),
            ("done", "undelivered"),
            ("failed", "failed"),
        ],
    )
    Channel.objects.filter(pk=channel.pk).update(audience_size=10)
    channel.refresh_from_db()


def assert_review(html: str) -> None:
    assert "<strong>4</strong> of 10 processed (40%) · 6 not reached yet" in html
    # Converted / contacted (every outcome but failed), the rule of Channel.conversion_rate.
    assert "Conversion rate <strong>33.3%</strong> (1 converted of 3 contacted)" in html
    assert (
        '<tr data-outcome="delivered"><th scope="row">Delivered</th><td class="num">2</td>'
        '<td class="num">50.0%</td></tr>'
    ) in html
    assert '<tr data-outcome="failed"><th scope="row">Failed</th><td class="num">1</td>' in html


def test_the_confirmation_shows_the_results_so_far(manager_client, channel):
    review_ledger(channel)
    html = manager_client.get(url(channel)).content.decode()
    assert_review(html)
    analytics = reverse("campaigns:analytics", args=[channel.campaign_id])
    assert f'<a href="{analytics}#channel-{channel.pk}">' in html


def test_the_command_center_s_stop_dialog_gets_the_same_review(manager_client, channel):
    review_ledger(channel)
    html = manager_client.get(channel.campaign.get_absolute_url()).content.decode()
    assert f'data-confirm-review="channel-{channel.pk}-stop-review"' in html
    template = html.split(f'<template id="channel-{channel.pk}-stop-review">')[1]
    assert_review(template.split("</template>")[0])
