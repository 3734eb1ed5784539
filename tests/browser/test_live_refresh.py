"""Pages opened while nothing runs still see another manager start a channel (issue 12, 4)."""

import pytest
from playwright.sync_api import expect

from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory, ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_starts_refreshing_when_another_manager_starts_a_channel(
    page, live_server, sign_in, manager
):
    campaign = CampaignFactory(name="Quiet", contact_list=ContactListFactory(size=5))
    channel = ChannelFactory(campaign=campaign, name="Texts")
    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    expect(page.locator("#live[data-polling]")).to_have_count(0)
    channel.start(by=ManagerFactory())
    status = page.locator(f"#channel-{channel.pk} [data-status]")
    expect(status).to_have_text("Running", timeout=15_000)
    # Now fast: the two-second refresh.
    expect(page.locator("#live[data-polling]")).to_have_count(1)
    expect(page.locator("#activity")).to_contain_text("started channel “Texts”")


def test_it_refreshes_the_campaign_list(page, live_server, sign_in, manager):
    campaign = CampaignFactory(name="Quiet", contact_list=ContactListFactory(size=5))
    channel = ChannelFactory(campaign=campaign, name="Texts")
    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/?q=Qui")
    row = page.get_by_role("row").filter(has_text="Quiet")
    expect(row).to_contain_text("Draft")
    channel.start(by=ManagerFactory())
    expect(row).to_contain_text("Active", timeout=15_000)
    # A refresh never moves the address, and keeps the filters.
    assert page.url.endswith("/campaigns/?q=Qui")
    page.go_back()
    expect(page).not_to_have_url(f"{live_server.url}/campaigns/?q=Qui")
