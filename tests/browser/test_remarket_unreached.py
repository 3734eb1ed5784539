"""Remarketing the contacts a stopped run never reached, in a real browser (issue 12, point 9).

The manual's path after Stop: Remarket on the stopped card, "Not reached", and back on the
command center at the follow-up's card, which names its source and has a Start button.
"""

import re

import pytest
from playwright.sync_api import expect

from channels.models import AudienceMember, Channel, Delivery
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory, DeliveryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_follows_up_a_stopped_channels_unreached_contacts(
    page, live_server, sign_in, manager, screenshot
):
    campaign = CampaignFactory(name="Spring drive", contact_list=ContactListFactory(size=6))
    voice = ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE, name="Spring calls")
    voice.start(by=manager)
    reached, interrupted, *never = sorted(
        campaign.contact_list.contacts.values_list("pk", flat=True)
    )
    DeliveryFactory(channel=voice, contact_id=reached, outcome="answered")
    DeliveryFactory(
        channel=voice, contact_id=interrupted, state=Delivery.State.INTERRUPTED, outcome=""
    )
    voice.stop(by=manager)

    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.locator(f"#channel-{voice.pk}").get_by_role("link", name="Remarket").click()
    choice = page.get_by_role("checkbox", name=re.compile(r"^Not reached 5"))
    expect(choice).to_be_visible()
    choice.check()
    page.get_by_label("Kind").select_option("sms")
    page.get_by_label("Name").fill("Unreached SMS")
    page.get_by_label("Message template").fill("Hi {first_name}, we could not reach you.")
    screenshot("remarket-not-reached")
    page.get_by_role("button", name="Create follow-up channel").click()

    page.wait_for_url(re.compile(rf"/campaigns/{campaign.pk}/#channel-\d+$"))
    follow_up = Channel.objects.get(name="Unreached SMS")
    members = AudienceMember.objects.filter(channel=follow_up)
    assert set(members.values_list("contact_id", flat=True)) == {interrupted, *never}
    card = page.locator(f"#channel-{follow_up.pk}")
    expect(card).to_contain_text("Follow-up of “Spring calls” (AI Voice) · not reached")
    expect(card).to_contain_text("will reach its 5 chosen contacts")
    expect(card.get_by_role("button", name="Start")).to_be_visible()
    expect(page.get_by_text("“Unreached SMS” is ready with 5 contacts")).to_be_visible()
    screenshot("remarket-not-reached-landed")
