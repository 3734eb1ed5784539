"""Analytics and remarketing in a real browser, with a real db_worker running the channels."""

import re
import time

import pytest
from playwright.sync_api import expect

from campaigns.models import Contact
from channels.models import Channel, Delivery
from tests.channels.workers import Workers
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

pytestmark = pytest.mark.django_db(transaction=True)

AUDIENCE = 60


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path, HERALD_SIMULATOR_LATENCY="ai_voice=0.01,sms=0,email=0")
    pool.start(1)
    yield pool
    pool.stop_all()


def wait_until_completed(channel: Channel, workers: Workers, timeout: float = 90) -> Channel:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        channel.refresh_from_db()
        if channel.status == Channel.Status.COMPLETED:
            return channel
        time.sleep(0.2)
    raise AssertionError(f"{channel} did not complete; worker logs:\n{workers.logs()}")


def test_it_shows_charts_and_remarkets_no_answer_to_sms(
    page, live_server, sign_in, manager, screenshot, workers
):
    contacts = Contact.objects.bulk_create(
        Contact(name=f"Person {i}", phone=f"+1202555{i:04d}", email=f"p{i}@example.com")
        for i in range(AUDIENCE)
    )
    contact_list = ContactListFactory(name="Browser list")
    contact_list.add_contacts([c.pk for c in contacts])
    campaign = CampaignFactory(name="Spring drive", contact_list=contact_list)
    voice = ChannelFactory(
        campaign=campaign, kind=Channel.Kind.AI_VOICE, name="Spring calls", max_concurrent=10
    )
    voice.start(by=manager)
    voice = wait_until_completed(voice, workers)
    no_answer = Delivery.objects.filter(channel=voice, outcome="no_answer").count()
    assert 0 < no_answer < AUDIENCE

    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Analytics").click()
    expect(page).to_have_url(f"{live_server.url}/campaigns/{campaign.pk}/analytics/")
    expect(page.get_by_role("heading", name="Spring drive", level=1)).to_be_visible()
    expect(page.locator("canvas#progress-chart")).to_be_visible()
    expect(page.locator("canvas#mix-chart")).to_be_visible()
    assert page.evaluate("typeof Chart") == "function"
    page.wait_for_function(
        "Chart.getChart(document.getElementById('progress-chart')) !== undefined"
        " && Chart.getChart(document.getElementById('mix-chart')) !== undefined"
    )
    table = page.get_by_role("table", name=re.compile("Audience and results per channel"))
    expect(table).to_be_visible()
    row = table.get_by_role("row", name=re.compile("Spring calls"))
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text(str(AUDIENCE))
    outcomes = page.get_by_role("table", name="Outcomes of Spring calls")
    expect(outcomes.locator('tr[data-outcome="no_answer"]')).to_contain_text(str(no_answer))
    screenshot("analytics-voice-completed")

    page.get_by_role("link", name="Remarket").click()
    expect(page.get_by_role("heading", name=re.compile("Remarket Spring calls"))).to_be_visible()
    page.locator("input[name=outcomes][value=no_answer]").check()
    page.get_by_label("Kind").select_option("sms")
    page.get_by_label("Name").fill("No-answer SMS")
    page.get_by_label("Message template").fill("Hi {first_name}, sorry we missed you.")
    screenshot("remarket-form")
    page.get_by_role("button", name="Create follow-up channel").click()

    # Landed on the command center, on the follow-up's card with its Start button.
    expect(
        page.get_by_text(f"“No-answer SMS” is ready with {no_answer:,} contacts")
    ).to_be_visible()
    page.wait_for_url(re.compile(rf"/campaigns/{campaign.pk}/#channel-\d+$"))
    follow_up = Channel.objects.get(name="No-answer SMS")
    assert follow_up.audience_size == no_answer
    # A follow-up text gets the kind's 08:00-21:00 (contacts' local time, SPEC 4b): at night
    # it would wait for morning. This test is about remarketing, so it may text any hour.
    Channel.objects.filter(pk=follow_up.pk).update(window_start=None, window_end=None)
    card = page.locator(f"#channel-{follow_up.pk}")
    expect(card).to_contain_text("Follow-up of “Spring calls” (AI Voice) · no answer")
    card.get_by_role("button", name="Start").click()
    expect(card.locator("[data-status]")).not_to_have_text("Ready")
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/analytics/")
    sms_row = page.get_by_role("table", name=re.compile("Audience and results")).get_by_role(
        "row", name=re.compile("No-answer SMS")
    )
    # The figures partial polls while the channel runs and shows it complete by itself.
    expect(sms_row).to_contain_text("Completed", timeout=60_000)
    follow_up = wait_until_completed(follow_up, workers)
    assert follow_up.processed == no_answer
    deliveries = Delivery.objects.filter(channel=follow_up)
    expected = set(
        Delivery.objects.filter(channel=voice, outcome="no_answer").values_list(
            "contact_id", flat=True
        )
    )
    assert set(deliveries.values_list("contact_id", flat=True)) == expected
    cells = sms_row.locator("td.num")
    expect(cells.nth(0)).to_have_text(str(no_answer))  # audience
    expect(cells.nth(1)).to_have_text(str(no_answer))  # processed
    expect(page.locator("#analytics-figures")).to_have_attribute("data-live", "no")
    # Drawn again on the canvas the last swap brought in.
    page.wait_for_function(
        "Chart.getChart(document.getElementById('mix-chart'))"
        "?.data.labels.includes('No-answer SMS')"
    )
    screenshot("analytics-follow-up-completed")


def test_it_marks_conversions_from_an_uploaded_list(
    page, live_server, sign_in, manager, screenshot, tmp_path
):
    from tests.factories import build_ledger, put_channel_in

    channel = ChannelFactory(name="Spring texts")
    won, lost, skipped = build_ledger(
        channel,
        [
            (Delivery.State.DONE, "delivered"),
            (Delivery.State.DONE, "delivered"),
            (Delivery.State.SKIPPED, ""),
        ],
    )
    put_channel_in(channel, Channel.Status.COMPLETED, audience_size=3)
    upload = tmp_path / "won.csv"
    upload.write_text(f"email\n{won.contact.email}\n{skipped.contact.email}\nnobody@example.com\n")

    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{channel.campaign_id}/analytics/")
    page.get_by_role("link", name="Upload conversions").click()
    page.get_by_label("List of phones or emails").set_input_files(str(upload))
    page.get_by_role("button", name="Mark converted").click()
    report = page.get_by_role("status").filter(has_text="Upload read")
    expect(report).to_contain_text("1 marked converted")
    expect(report).to_contain_text("1 matched but not contacted")
    expect(report).to_contain_text("1 unknown")
    screenshot("conversions-uploaded")
    page.get_by_role("link", name="Back to the analytics").click()
    row = page.get_by_role("row", name=re.compile("Spring texts"))
    expect(row.locator('[data-figure="rate"]')).to_have_text("50.0%")


def test_the_command_center_tabs_keep_their_state_in_the_url(
    page, live_server, sign_in, viewer, screenshot
):
    from campaigns.models import ActivityEvent
    from tests.factories import build_ledger, put_channel_in

    campaign = CampaignFactory(name="Autumn drive")
    voice = ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE, name="Autumn calls")
    outcomes = ["answered", "voicemail", "no_answer", "busy", "failed"]
    build_ledger(voice, [(Delivery.State.DONE, outcome) for outcome in outcomes])
    put_channel_in(voice, Channel.Status.COMPLETED, audience_size=len(outcomes))
    ActivityEvent.objects.bulk_create(
        ActivityEvent(campaign=campaign, action="edited", subject=f"note {n}") for n in range(55)
    )
    base = f"{live_server.url}/campaigns/{campaign.pk}/"
    tabs = page.get_by_role("navigation", name="Sections")

    sign_in(viewer)
    page.goto(base)
    expect(tabs.get_by_role("link", name="Channels (1)")).to_have_attribute("aria-current", "page")
    expect(page.locator(f"#channel-{voice.pk}")).to_be_visible()

    tabs.get_by_role("link", name="Analytics").click()
    expect(page).to_have_url(base + "analytics/")
    expect(tabs.get_by_role("link", name="Analytics")).to_have_attribute("aria-current", "page")
    page.wait_for_function("Chart.getChart(document.getElementById('mix-chart')) !== undefined")
    fills = page.evaluate(
        """() => Chart.getChart(document.getElementById('mix-chart')).data.datasets.map(
            (set) => [set.label, set.borderColor, set.backgroundColor instanceof CanvasPattern])"""
    )
    labels = [label for label, _, _ in fills]
    assert labels[:5] == ["Answered", "Voicemail", "No answer", "Busy", "Failed"]
    colours = [colour for _, colour, _ in fills]
    assert len(set(colours)) == len(colours)  # every outcome its own colour
    assert sum(patterned for _, _, patterned in fills) >= len(fills) - 1  # and a pattern besides
    screenshot("tabs-analytics")

    page.go_back()
    expect(page).to_have_url(base)
    tabs.get_by_role("link", name="Activity").click()
    expect(page).to_have_url(base + "activity/")
    expect(page.get_by_text("55 events, newest first")).to_be_visible()
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(base + "activity/?page=2")
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    page.reload()  # the tab and the page survive a reload: they are the URL
    expect(tabs.get_by_role("link", name="Activity")).to_have_attribute("aria-current", "page")
    expect(page.locator("#activity-log li")).to_have_count(5)
    screenshot("tabs-activity")
