"""A channel's deliveries table in a real browser: filter, page, open a message, convert."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Contact
from channels.deliveries import PAGE_SIZE
from channels.models import Channel, Delivery
from tests.browser.accessibility import assert_accessible
from tests.factories import CampaignFactory, ChannelFactory, build_ledger, put_channel_in

pytestmark = pytest.mark.django_db(transaction=True)


def sms_channel() -> tuple[Channel, list[Delivery]]:
    campaign = CampaignFactory(name="Autumn drive")
    channel = ChannelFactory(
        campaign=campaign, name="Autumn SMS", sms_template="Hi {first_name}, autumn is here."
    )
    rows = [(Delivery.State.DONE, "delivered"), (Delivery.State.DONE, "undelivered")]
    deliveries = build_ledger(channel, rows * (PAGE_SIZE + 10))
    for number, delivery in enumerate(deliveries):
        Contact.objects.filter(pk=delivery.contact_id).update(name=f"Person{number} Example")
    return put_channel_in(channel, Channel.Status.COMPLETED), deliveries


def row_ids(page) -> list[int]:
    ids = page.locator("tbody.delivery").evaluate_all("rows => rows.map(row => row.id)")
    return [int(pk.removeprefix("delivery-")) for pk in ids]


def test_it_filters_pages_opens_a_message_and_marks_converted(
    page, live_server, sign_in, manager, screenshot
):
    channel, deliveries = sms_channel()
    delivered = sorted((d.pk for d in deliveries if d.outcome == "delivered"), reverse=True)
    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{channel.campaign_id}/")
    page.get_by_role("link", name="Deliveries of Autumn SMS").click()
    expect(page.get_by_role("heading", name="Deliveries · Autumn SMS")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Outcome").select_option("delivered")
    expect(page).to_have_url(re.compile(r"outcome=delivered"))
    expect(page.locator("tbody.delivery").first).to_have_id(f"delivery-{delivered[0]}")
    assert row_ids(page) == delivered[:PAGE_SIZE]
    outcomes = page.locator("td[data-outcome]").all_inner_texts()
    assert set(outcomes) == {"Delivered"}

    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(rf"outcome=delivered.*&after={delivered[PAGE_SIZE - 1]}$"))
    expect(page.locator("tbody.delivery").first).to_have_id(f"delivery-{delivered[PAGE_SIZE]}")
    assert row_ids(page) == delivered[PAGE_SIZE:]
    page.get_by_role("link", name="← Previous").click()
    expect(page.locator("tbody.delivery").first).to_have_id(f"delivery-{delivered[0]}")
    assert row_ids(page) == delivered[:PAGE_SIZE]
    expect(page.get_by_label("Outcome")).to_have_value("delivered")

    # The row's message is rendered when it is opened, for that contact.
    target = Delivery.objects.select_related("contact").get(pk=delivered[3])
    first_name = target.contact.name.split()[0]
    row = page.locator(f"#delivery-{target.pk}")
    row.locator("summary", has_text="Message").click()
    expect(row.locator(".sent-content")).to_contain_text(f"Hi {first_name}, autumn is here.")
    screenshot("deliveries-message")

    row.get_by_role("button", name="Mark converted").click()
    expect(row.locator(f"#delivery-{target.pk}-conversion")).to_contain_text("Converted")
    target.refresh_from_db()
    assert target.converted
    assert Channel.objects.get(pk=channel.pk).converted == 1
    # Still on the same filtered page: the mark swapped one cell, nothing else.
    expect(page).to_have_url(re.compile(r"outcome=delivered"))
    assert row_ids(page) == delivered[:PAGE_SIZE]


def test_it_searches_by_contact(page, live_server, sign_in, viewer):
    channel, deliveries = sms_channel()
    Contact.objects.filter(pk=deliveries[7].contact_id).update(name="Zelda Quarry")
    sign_in(viewer)
    page.goto(f"{live_server.url}/channels/{channel.pk}/deliveries/")
    page.get_by_label("Contact").fill("quarry")
    expect(page.locator("tbody.delivery")).to_have_count(1)
    expect(page.locator("tbody.delivery")).to_contain_text("Zelda Quarry")
    expect(page.get_by_role("button", name="Mark converted")).to_have_count(0)  # a viewer
    export = page.get_by_role("link", name="Export these as CSV")
    assert "q=quarry" in export.get_attribute("href")


def test_it_fits_a_phone_with_the_table_scrolling_in_its_own_box(browser, live_server, manager):
    channel, deliveries = sms_channel()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(manager.username)
        page.get_by_label("Password").fill("password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/campaigns/**")
        page.goto(f"{live_server.url}/channels/{channel.pk}/deliveries/")
        newest = page.locator("tbody.delivery").first
        newest.locator("summary", has_text="Message").click()
        expect(newest.locator(".sent-content")).to_be_visible()
        page.screenshot(path=str(page_screenshot("deliveries-360")), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 360px"
        box = page.locator(".table-scroll").evaluate("el => el.scrollWidth > el.clientWidth")
        assert box, "the table should scroll inside its own box"
        message = newest.locator(".sent-content").bounding_box()
        assert message["x"] >= 0 and message["x"] + message["width"] <= 360
    finally:
        context.close()


def page_screenshot(name: str):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
