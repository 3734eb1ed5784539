"""The channel form's content tools (issue 12, point 11) and the review before Stop (point
12), in a real browser under the site's Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from channels.models import Channel
from channels.sms_length import sms_length
from tests.browser.accessibility import assert_accessible
from tests.channels.test_sms_length import CASES
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    MembershipFactory,
    build_ledger,
    put_channel_in,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def console_errors(page):
    """What the page reports as broken: CSP violations and script errors."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


@pytest.fixture
def channel(db):
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Texts", sms_template="Hi {first_name}")
    for name, attributes in [
        ("Ann Lee", {"city": "Lyon"}),
        ("Bob Ray", {"city": "Oslo"}),
        ("Cy", {}),
    ]:
        MembershipFactory(
            contact_list=channel.campaign.contact_list,
            contact=ContactFactory(name=name, attributes=attributes),
        )
    return channel


def test_the_content_tools_follow_what_one_types(
    page, live_server, sign_in, manager, channel, console_errors, screenshot
):
    sign_in(manager)
    page.goto(f"{live_server.url}/channels/{channel.pk}/edit/")
    template = page.get_by_label("Message template")
    preview = page.locator("#content-preview")
    counter = page.locator("#sms-length [data-sms-count]")
    warning = page.locator("#sms-length [data-sms-warning]")

    # On arrival: the saved content for the list's first contact, the list's placeholders.
    expect(preview.locator("[data-preview-output]")).to_have_text("Hi Ann")
    table = page.locator(".list-placeholders")
    expect(table.locator('tr[data-placeholder="city"]')).to_contain_text("{city}21")
    expect(counter).to_have_text(str(sms_length("Hi {first_name}")))
    assert_accessible(page)

    # A misspelt placeholder is named, with the right one.
    template.fill("Hi {frist_name}")
    expect(preview).to_contain_text(
        "No contact of the list has {frist_name}: it is left empty for everyone. "
        "Did you mean {first_name}?"
    )
    expect(preview.locator("[data-preview-output]")).to_have_text("Hi")

    # Another contact, and a default for those without a city.
    template.fill("Hi {first_name}, news from {city|your city}")
    page.get_by_label("Render for").select_option(label="Cy")
    expect(preview.locator("[data-preview-output]")).to_have_text("Hi Cy, news from your city")
    page.get_by_label("…or the contact with id or email").fill(
        channel.campaign.contact_list.contacts.get(name="Bob Ray").email
    )
    expect(preview.locator("[data-preview-output]")).to_have_text("Hi Bob, news from Oslo")
    expect(preview.locator("[data-preview-length]")).to_have_text(
        "22 characters · 1 segment (GSM-7)"
    )

    # The counter follows each keystroke and says when a character makes the text UCS-2.
    template.fill("")
    template.press_sequentially("It’s me")
    expect(counter).to_have_text("7 characters · 1 segment (UCS-2)")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("’ is not in the GSM-7 set")
    template.fill("It's me")
    expect(counter).to_have_text("7 characters · 1 segment (GSM-7)")
    expect(warning).to_be_hidden()
    screenshot("content-tools")

    # The browser counts as the server does, case by case.
    for text, *_ in CASES:
        counted = page.evaluate(
            """(text) => {
                const area = document.getElementById("id_sms_template");
                area.value = text;
                area.dispatchEvent(new Event("input", { bubbles: true }));
                return document.querySelector("#sms-length [data-sms-count]").textContent;
            }""",
            text,
        )
        assert counted == str(sms_length(text)), text

    assert console_errors == []
    channel.refresh_from_db()
    assert channel.sms_template == "Hi {first_name}"  # nothing was saved


def test_the_form_caps_a_text_and_says_how_long_it_is(
    page, live_server, sign_in, manager, channel
):
    sign_in(manager)
    page.goto(f"{live_server.url}/channels/{channel.pk}/edit/")
    page.get_by_label("Message template").fill("x" * 1601)
    expect(page.locator("#content-preview")).to_contain_text(
        "A text can be at most 1,600 characters (Twilio's limit); this template has "
        "1,601 characters · 11 segments (GSM-7)."
    )
    page.get_by_role("button", name="Save channel").click()
    expect(page.locator(".field.has-error")).to_contain_text("A text can be at most 1,600")
    channel.refresh_from_db()
    assert channel.sms_template == "Hi {first_name}"


def test_the_stop_dialog_shows_the_results_to_review(
    page, live_server, sign_in, manager, console_errors, screenshot
):
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Texts")
    put_channel_in(channel, Channel.Status.RUNNING, audience_size=10)
    build_ledger(
        channel,
        [("done", "delivered", True), ("done", "delivered"), ("done", "undelivered")],
    )
    Channel.objects.filter(pk=channel.pk).update(audience_size=10)
    channel.campaign.refresh_status()
    sign_in(manager)
    page.goto(f"{live_server.url}{channel.campaign.get_absolute_url()}")
    page.get_by_role("button", name="Stop").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("3 of 10 processed (30%) · 7 not reached yet")
    expect(dialog).to_contain_text("Conversion rate 33.3% (1 converted of 3 contacted)")
    expect(dialog.locator('tr[data-outcome="delivered"]')).to_have_text("Delivered266.7%")
    expect(dialog.get_by_role("link", name="All of its results in Analytics")).to_be_visible()
    assert_accessible(page)
    screenshot("stop-review-dialog")

    # Cancel changes nothing; confirming stops.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING
    page.get_by_role("button", name="Stop").click()
    dialog.get_by_role("button", name="Stop channel").click()
    expect(page.locator(f"#channel-{channel.pk} [data-status]")).to_have_text("Stopped")

    # Another confirmation in the same dialog (Archive) shows no stale review.
    page.get_by_text("Settings").click()
    page.get_by_role("button", name="Archive").click()
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-dialog-review")).to_be_empty()
    assert console_errors == []
