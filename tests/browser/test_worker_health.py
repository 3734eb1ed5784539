"""Worker health in a real browser (issue 12, point 13): a channel started while no
`db_worker` runs says so on its card and in the campaign list, and carries on, the message
gone, once a worker starts."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Contact
from channels.models import Channel
from tests.channels.workers import Workers
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 3  # the workers' HERALD_LEASE_SECONDS in tests/channels/workers.py


def test_it_says_when_no_worker_runs_and_recovers_when_one_starts(
    page, live_server, sign_in, manager, screenshot, settings, tmp_path
):
    settings.HERALD_ENGINE = {**settings.HERALD_ENGINE, "lease_seconds": LEASE}
    contacts = Contact.objects.bulk_create(
        Contact(name=f"Person {i}", phone=f"+1202555{i:04d}") for i in range(40)
    )
    contact_list = ContactListFactory(name="Health list")
    contact_list.add_contacts([c.pk for c in contacts])
    campaign = CampaignFactory(name="Unattended drive", contact_list=contact_list)
    channel = ChannelFactory(
        campaign=campaign, kind=Channel.Kind.SMS, name="Spring texts", max_per_second=5
    )

    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    card = page.locator(f"#channel-{channel.pk}")
    card.get_by_role("button", name="Start").click()
    expect(card.locator("[data-status]")).to_have_text("Running")
    warning = card.get_by_text("No worker is running — start one with manage.py db_worker")
    expect(warning).to_be_visible(timeout=LEASE * 1000 + 8000)
    expect(card).not_to_contain_text("contacts/s")
    screenshot("worker-missing-card")

    page.goto(f"{live_server.url}/campaigns/")
    row = page.get_by_role("row", name=re.compile("Unattended drive"))
    expect(row).to_contain_text("No worker running")
    screenshot("worker-missing-list")

    workers = Workers(tmp_path, HERALD_SIMULATOR_LATENCY="ai_voice=0,sms=0,email=0")
    workers.start(1)
    try:
        # The list refreshes itself; the flag goes once the worker claims.
        expect(row).not_to_contain_text("No worker running", timeout=30_000)
        page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
        expect(card.locator("[data-status]")).to_have_text("Completed", timeout=40_000)
        expect(card).not_to_contain_text("No worker is running")
    finally:
        workers.stop_all()
