"""A test send from a channel's edit form, and the Providers page on a phone, in Chromium."""

import pytest
from playwright.sync_api import expect

from channels.models import Channel, Delivery
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import SCREENSHOTS
from tests.factories import ChannelFactory, ContactFactory, MembershipFactory
from tests.providers import RecordingProvider

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_sends_a_test_from_the_edit_form(
    page, live_server, sign_in, manager, use_provider, screenshot
):
    use_provider("tests.providers.ConfiguredProvider")
    RecordingProvider.reset()
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Texts", sms_template="Hi {first_name}")
    MembershipFactory(
        contact_list=channel.campaign.contact_list, contact=ContactFactory(name="Ann")
    )
    sign_in(manager)
    page.goto(f"{live_server.url}/channels/{channel.pk}/edit/")
    page.get_by_label("Message template", exact=True).fill("Hello {first_name}, a test")
    page.get_by_label("Send to").fill("12ab")
    page.get_by_role("button", name="Send a test").click()
    result = page.locator("#test-send-result")
    expect(result).to_contain_text("“12ab” is not a phone number.")
    page.get_by_label("Send to").fill("(202) 555-0143")
    page.get_by_role("button", name="Send a test").click()
    expect(result).to_contain_text("Sent to +12025550143: accepted by configured (id cfg-42).")
    assert "/edit/" in page.url  # htmx: the page stayed, the form keeps what was typed
    expect(page.get_by_label("Message template", exact=True)).to_have_value(
        "Hello {first_name}, a test"
    )
    assert_accessible(page)
    screenshot("test-send")
    [message] = RecordingProvider.sent
    assert message.content["text"] == "Hello Ann, a test"
    assert Delivery.objects.count() == 0
    RecordingProvider.reset()


def test_it_fits_the_providers_page_on_a_phone(browser, live_server, manager, use_provider):
    use_provider("tests.providers.ConfiguredProvider")
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(manager.username)
        page.get_by_label("Password").fill("password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Providers").click()
        expect(page.get_by_role("heading", name="Providers", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="SMS Blast")).to_be_visible()
        assert_accessible(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "providers-360.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 360px"
    finally:
        context.close()
