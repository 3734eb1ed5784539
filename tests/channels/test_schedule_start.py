"""The Schedule start page of a Ready channel (channels/schedule_views.py)."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.dates import format_when
from campaigns.models import ActivityEvent, Preferences
from channels.models import Channel
from tests.conftest import url_for
from tests.factories import ChannelFactory, put_channel_in

url = url_for("channels:schedule")
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NEXT_YEAR = timezone.now().year + 1
# 09:00 on 3 December next year in Chicago (CST, UTC-6) is 15:00 UTC.
LOCAL_INPUT = f"{NEXT_YEAR}-12-03T09:00"
AT = datetime(NEXT_YEAR, 12, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Texts")


@pytest.fixture
def in_chicago(manager):
    Preferences.set_zone(manager, "America/Chicago")


def test_it_shows_the_form_in_the_managers_zone(manager_client, channel, in_chicago):
    response = manager_client.get(url(channel))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="datetime-local"' in html
    assert "In your time zone, America/Chicago" in html


def test_it_schedules_the_start_read_in_the_managers_zone(
    manager_client, channel, manager, in_chicago
):
    response = manager_client.post(url(channel), {"start_at": LOCAL_INPUT}, follow=True)
    assert response.redirect_chain == [(channel.campaign.get_absolute_url(), 302)]
    local = format_when(AT, zone=CHICAGO)
    assert f"“Texts” will start at {local} (America/Chicago)." in response.content.decode()
    channel.refresh_from_db()
    assert channel.scheduled_at == AT
    assert channel.scheduled_by == manager
    assert channel.status == Channel.Status.READY
    event = ActivityEvent.objects.get(action="schedule", channel=channel)
    assert event.actor == manager
    assert event.message == f"To start at {format_when(AT, zone=UTC)} UTC."


def test_the_card_says_when_in_both_zones_and_by_whom(
    manager_client, channel, manager, in_chicago
):
    manager_client.post(url(channel), {"start_at": LOCAL_INPUT})
    html = manager_client.get(channel.campaign.get_absolute_url()).content.decode()
    local = format_when(AT, zone=CHICAGO)
    assert local.startswith("09:00 ") and local.endswith(f" 3 Dec {NEXT_YEAR}")
    assert (
        f'Starts at <time datetime="{AT.isoformat()}" title="15:00 UTC">'
        f"{local}</time> (America/Chicago) · 15:00 UTC · by {manager.username}"
    ) in html
    assert "Change schedule" in html and "Cancel schedule" in html


def test_it_changes_a_schedule(manager_client, channel, in_chicago):
    manager_client.post(url(channel), {"start_at": LOCAL_INPUT})
    form = manager_client.get(url(channel)).content.decode()
    assert f'value="{LOCAL_INPUT}"' in form  # the current schedule, to change
    manager_client.post(url(channel), {"start_at": f"{NEXT_YEAR}-12-04T10:30"})
    channel.refresh_from_db()
    assert channel.scheduled_at == datetime(NEXT_YEAR, 12, 4, 16, 30, tzinfo=UTC)


def test_it_refuses_a_time_in_the_past_and_changes_nothing(manager_client, channel):
    past = timezone.localtime(timezone.now() - timedelta(hours=1))
    response = manager_client.post(url(channel), {"start_at": past.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 400
    assert "A start time must be in the future." in response.content.decode()
    channel.refresh_from_db()
    assert channel.scheduled_at is None
    assert not ActivityEvent.objects.filter(action="schedule").exists()


def test_it_refuses_a_time_that_is_not_one(manager_client, channel):
    response = manager_client.post(url(channel), {"start_at": "tomorrow-ish"})
    assert response.status_code == 400
    assert "Enter a valid date/time." in response.content.decode()


def test_it_refuses_a_channel_that_is_not_ready_with_409(manager_client, channel):
    put_channel_in(channel, Channel.Status.RUNNING)
    response = manager_client.post(url(channel), {"start_at": LOCAL_INPUT})
    assert response.status_code == 409
    assert "Only a ready channel can be scheduled; this one is running." in (
        response.content.decode()
    )
    channel.refresh_from_db()
    assert channel.scheduled_at is None
    assert manager_client.get(url(channel)).status_code == 409


def test_a_viewer_gets_403_and_sees_no_control(viewer_client, channel):
    assert viewer_client.get(url(channel)).status_code == 403
    assert viewer_client.post(url(channel), {"start_at": LOCAL_INPUT}).status_code == 403
    html = viewer_client.get(channel.campaign.get_absolute_url()).content.decode()
    assert url(channel) not in html
    assert "Schedule start" not in html


def test_it_answers_404_for_an_unknown_channel(manager_client, db):
    assert manager_client.get(url(9999)).status_code == 404
