"""A pointer left resting on a button does not freeze the live page (static/js/herald.js).

Refreshes are held back while the pointer is on a control they would move or remove; once
it has rested there for a while (RESTING_MS), the person is not about to click and the page
updates again, even when the update takes that very button away.
"""

import time

import pytest
from playwright.sync_api import expect

from channels.models import Channel
from tests.browser.test_live_controls import FORCE_REFRESH, running_campaign

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_updates_under_a_pointer_left_on_a_button_it_removes(
    page, live_server, sign_in, manager
):
    campaign, channel = running_campaign()
    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    card = page.locator(f"#channel-{channel.pk}")
    card.get_by_role("button", name="Pause").hover()
    Channel.objects.filter(pk=channel.pk).update(status=Channel.Status.STOPPED)

    page.evaluate(FORCE_REFRESH)  # the pointer has just moved: held back
    expect(card.locator("[data-status]")).to_have_text("Running")
    time.sleep(8.5)  # resting, longer than RESTING_MS
    page.evaluate(FORCE_REFRESH)
    expect(card.locator("[data-status]")).to_have_text("Stopped")
