"""Scheduling a channel's start in a real browser: in the manager's zone, then cancelled."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Preferences
from channels.models import Channel
from tests.browser.accessibility import assert_accessible
from tests.factories import ChannelFactory, ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)

NEXT_YEAR = timezone.now().year + 1


def test_it_schedules_shows_the_time_and_cancels(page, live_server, sign_in, screenshot):
    alice = ManagerFactory(username="alice")
    Preferences.set_zone(alice, "America/Chicago")
    channel = ChannelFactory(name="Reminder texts")
    sign_in(alice)
    expect(page.get_by_role("link", name="Times in America/Chicago")).to_be_visible()
    page.goto(f"{live_server.url}{channel.campaign.get_absolute_url()}")
    card = page.locator(f"#channel-{channel.pk}")

    card.get_by_role("link", name="Schedule start").click()
    assert_accessible(page)
    expect(page.get_by_text("In your time zone, America/Chicago")).to_be_visible()
    page.get_by_label("Start at").fill(f"{timezone.now().year - 1}-01-05T09:00")
    page.get_by_role("button", name="Schedule start").click()
    expect(page.get_by_role("alert")).to_have_text("A start time must be in the future.")

    page.get_by_label("Start at").fill(f"{NEXT_YEAR}-12-03T09:00")
    page.get_by_role("button", name="Schedule start").click()
    card = page.locator(f"#channel-{channel.pk}")
    schedule = card.locator(f"#channel-{channel.pk}-schedule")
    weekday = timezone.datetime(NEXT_YEAR, 12, 3).strftime("%a")
    expect(schedule).to_have_text(
        f"Starts at 09:00 {weekday} 3 Dec {NEXT_YEAR} (America/Chicago) · 15:00 UTC · by alice"
    )
    assert_accessible(page)
    screenshot("schedule-set")

    card.get_by_role("button", name="Cancel schedule").click()
    expect(schedule).to_have_count(0)
    expect(card.get_by_role("link", name="Schedule start")).to_be_visible()
    expect(page.locator("#activity")).to_contain_text("alice unscheduled channel")
    channel.refresh_from_db()
    assert channel.scheduled_at is None
    assert channel.status == Channel.Status.READY
