"""Figures that follow an action on their page without a reload (issue 12, point 5)."""

import pytest
from playwright.sync_api import expect

from channels.models import Channel
from tests.factories import ChannelFactory, ContactFactory, DeliveryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_contacts_history_counts_the_conversion_just_marked(
    page, live_server, sign_in, manager, screenshot
):
    contact = ContactFactory(name="Ann Lee")
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Spring texts")
    delivery = DeliveryFactory(channel=channel, contact=contact, outcome="delivered")
    sign_in(manager)
    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    summary = page.locator("#history-summary")
    expect(summary).to_contain_text("0 converted")
    page.locator(f"#delivery-{delivery.pk}-conversion").get_by_role(
        "button", name="Mark converted"
    ).click()
    expect(page.locator(f"#delivery-{delivery.pk}-conversion")).to_contain_text("Converted")
    expect(summary).to_contain_text("1 converted")
    screenshot("contact-converted")
