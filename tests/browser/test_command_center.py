"""The command center in a real browser: the acceptance flow of issue 4.

`test_it_runs_a_campaign_from_creation_to_deletion` and the viewer and no-JavaScript tests
pass without the engine. The steps that need real progress (the bar moving, pause holding
the counts, resume finishing) are in `test_it_shows_the_engine_working_live`, which starts
a real `manage.py db_worker` against the live server's database; it is skipped until the
engine (`channels/tasks.py`) is in the tree.
"""

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from campaigns.models import Campaign
from channels.models import Channel
from tests.browser.accessibility import assert_accessible
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory, ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT = Path(__file__).resolve().parents[2]
ENGINE_PRESENT = importlib.util.find_spec("channels.tasks") is not None


def channel_card(page, name: str):
    return page.locator("article.channel-card", has=page.get_by_role("heading", name=name))


def confirm_in_dialog(page, *, says: str, button: str) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(says)
    assert_accessible(page)
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_be_hidden()


def test_it_runs_a_campaign_from_creation_to_deletion(
    page, live_server, sign_in, manager, screenshot
):
    ContactListFactory(name="Spring donors", size=12)
    CampaignFactory(name="Older campaign", created_by=manager)
    sign_in(manager)
    assert_accessible(page)

    # New campaign, then its channels one by one.
    page.get_by_role("link", name="New campaign").click()
    assert_accessible(page)
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Spring appeal")
    page.get_by_label("Description").fill("Thank last year's donors and ask again.")
    page.get_by_label("Contact list").select_option(label="Spring donors (12 contacts)")
    page.get_by_role("button", name="Create campaign").click()

    expect(page.get_by_role("heading", name="Add a channel to Spring appeal")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Kind").select_option("ai_voice")
    expect(page.get_by_label("SMS Blast content")).to_be_hidden()
    page.get_by_label("Name", exact=True).fill("Donor calls")
    page.get_by_label("Agent script").fill("Hello {first_name}, this is the Spring appeal.")
    page.get_by_label("Max concurrent calls").fill("2")
    page.get_by_role("button", name="Add channel").click()
    expect(page.get_by_text("Channel “Donor calls” added")).to_be_visible()

    page.get_by_role("link", name="Add channel").click()
    page.get_by_label("Kind").select_option("sms")
    page.get_by_label("Name", exact=True).fill("Reminder texts")
    page.get_by_label("Message template").fill("Hi {first name}, thank you!")
    page.get_by_role("button", name="Add channel").click()
    # The placeholder is refused next to its field, and nothing was saved.
    expect(page.get_by_text("Unknown placeholder {first name}")).to_be_visible()
    assert_accessible(page)
    screenshot("channel-form-error")
    page.get_by_label("Message template").fill("Hi {first_name}, thank you!")
    page.get_by_role("button", name="Add channel").click()

    # The command center: start only the voice channel.
    voice, sms = channel_card(page, "Donor calls"), channel_card(page, "Reminder texts")
    campaign_status = page.locator("#campaign-status")
    expect(campaign_status).to_have_text("Draft")
    assert_accessible(page)
    page.evaluate("window.noReloadSince = Date.now()")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.on("console", lambda msg: navigations.append(f"console {msg.type}: {msg.text}"))
    page.on(
        "request",
        lambda r: (
            navigations.append(f"{r.method} {r.url} htmx={r.headers.get('hx-request')}")
            if r.method == "POST" or r.resource_type == "document"
            else None
        ),
    )
    voice.get_by_role("button", name="Start").click()
    expect(voice.locator("[data-status]")).to_have_text("Running")
    expect(campaign_status).to_have_text("Active")
    expect(sms.locator("[data-status]")).to_have_text("Ready")
    expect(page.locator(".breakdown")).to_contain_text("1 running")
    expect(page.locator(".breakdown")).to_contain_text("1 ready")
    expect(voice.get_by_role("button")).to_have_text(["Pause", "Stop"])
    expect(page.locator("#live[data-polling]")).to_have_count(1)
    assert_accessible(page)
    screenshot("command-center")

    # Polling shows what another manager does, and stops once nothing runs. (The pointer
    # leaves Start's place first: while it rests there, a refresh that would turn the Pause
    # under it into Resume waits, see test_live_controls.py.)
    page.mouse.move(1, 1)
    Channel.objects.get(name="Donor calls").pause(by=ManagerFactory())
    expect(voice.locator("[data-status]")).to_have_text("Paused", timeout=8_000)
    expect(page.locator("#live[data-polling]")).to_have_count(0)
    expect(page.locator("#activity")).to_contain_text("paused channel “Donor calls”")

    # Keyboard: the focused button survives the swap as the card's first button.
    voice.get_by_role("button", name="Resume").focus()
    page.keyboard.press("Enter")
    expect(voice.locator("[data-status]")).to_have_text("Running")
    expect(voice.get_by_role("button", name="Pause")).to_be_focused()
    page.keyboard.press("Enter")
    expect(voice.locator("[data-status]")).to_have_text("Paused")
    expect(voice.get_by_role("button")).to_have_text(["Resume", "Stop"])
    voice.get_by_role("button", name="Resume").click()
    expect(voice.locator("[data-status]")).to_have_text("Running")

    # Stop the SMS channel after starting it: the confirmation says it is permanent.
    sms.get_by_role("button", name="Start").click()
    expect(sms.locator("[data-status]")).to_have_text("Running")
    sms.get_by_role("button", name="Stop").click()
    screenshot("stop-confirmation")
    confirm_in_dialog(page, says="Stopping is permanent", button="Cancel")
    expect(sms.locator("[data-status]")).to_have_text("Running")
    sms.get_by_role("button", name="Stop").click()
    expect(page.locator("#confirm-dialog-ok")).to_have_class("danger")
    confirm_in_dialog(page, says="Stopping is permanent", button="Stop channel")
    expect(sms.locator("[data-status]")).to_have_text("Stopped")
    expect(sms.get_by_role("button")).to_have_count(0)

    # A refused action shows the model's message in place: another manager stopped the
    # paused voice channel (nothing runs, so nothing polls) before this page's Resume.
    voice.get_by_role("button", name="Pause").click()
    expect(voice.locator("[data-status]")).to_have_text("Paused")
    expect(page.locator("#live[data-polling]")).to_have_count(0)
    Channel.objects.get(name="Donor calls").stop(by=ManagerFactory())
    voice.get_by_role("button", name="Resume").click()
    expect(voice.get_by_role("alert")).to_have_text(
        "This channel was stopped; a stopped run cannot be changed."
    )
    expect(voice.locator("[data-status]")).to_have_text("Stopped")
    expect(campaign_status).to_have_text("Completed")
    expect(page.locator("#live[data-polling]")).to_have_count(0)
    expect(page.locator("#activity")).to_contain_text("stopped channel “Reminder texts”")
    assert page.evaluate("window.noReloadSince") is not None, f"the page reloaded: {navigations}"

    # Archive from the settings menu, after a short confirmation.
    page.get_by_text("Settings", exact=True).click()
    assert_accessible(page)
    page.get_by_role("button", name="Archive").click()
    # Archiving can be undone: its confirmation is not a red danger button, Stop's is.
    expect(page.locator("#confirm-dialog-ok")).to_have_class("primary")
    confirm_in_dialog(page, says="every piece of its data is kept", button="Archive")
    expect(campaign_status).to_have_text("Archived")
    expect(page.get_by_role("link", name="Add channel")).to_have_count(0)

    # It has left the main list and is found only under the Archived filter.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("link", name="Older campaign")).to_be_visible()
    expect(page.get_by_role("link", name="Spring appeal")).to_have_count(0)
    page.get_by_label("Status").select_option("archived")
    expect(page).to_have_url(re.compile(r"status=archived"))
    expect(page.get_by_role("link", name="Spring appeal")).to_be_visible()
    expect(page.get_by_role("link", name="Older campaign")).to_have_count(0)
    assert_accessible(page)
    screenshot("campaign-list-archived")
    page.go_back()
    expect(page.get_by_role("link", name="Older campaign")).to_be_visible()
    expect(page.get_by_label("Status")).to_have_value("")
    page.go_forward()
    expect(page.get_by_role("link", name="Spring appeal")).to_be_visible()

    # Unarchive, then delete for good.
    page.get_by_role("link", name="Spring appeal").click()
    page.get_by_text("Settings", exact=True).click()
    page.get_by_role("button", name="Unarchive").click()
    expect(campaign_status).to_have_text("Completed")
    page.get_by_text("Settings", exact=True).click()
    page.get_by_role("link", name="Delete Campaign").click()
    expect(page.get_by_role("heading", name="Delete “Spring appeal”?")).to_be_visible()
    expect(page.locator(".deletion-summary")).to_contain_text("2 channels")
    expect(page.locator(".deletion-summary")).to_contain_text("0 deliveries")
    expect(page.locator(".deletion-summary")).to_contain_text("12 contacts")
    expect(page.get_by_text("The contacts themselves stay")).to_be_visible()
    assert_accessible(page)
    screenshot("delete-confirmation")
    page.get_by_role("button", name="Delete Campaign").click()
    expect(
        page.get_by_text("Campaign “Spring appeal” and its channels are deleted")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Spring appeal")).to_have_count(0)
    page.get_by_label("Status").select_option("archived")
    expect(page.get_by_text("No campaigns match these filters.")).to_be_visible()
    assert not Campaign.objects.filter(name="Spring appeal").exists()


def test_it_shows_the_list_with_filters_and_search(
    page, live_server, sign_in, manager, screenshot
):
    contact_list = ContactListFactory(name="Members", size=4)
    for name in ["Autumn drive", "Winter gala", "Summer survey"]:
        campaign = CampaignFactory(name=name, contact_list=contact_list, created_by=manager)
        ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE, name=f"{name} calls")
        ChannelFactory(campaign=campaign, kind=Channel.Kind.EMAIL, name=f"{name} mail")
    Channel.objects.get(name="Winter gala calls").start(by=manager)
    sign_in(manager)
    expect(page.get_by_role("row")).to_have_count(4)
    screenshot("campaign-list")
    page.get_by_label("Search").fill("gala")
    expect(page).to_have_url(re.compile(r"q=gala"))
    expect(page.get_by_role("row")).to_have_count(2)
    expect(page.get_by_role("row").nth(1)).to_contain_text("Active")
    page.get_by_label("Search").fill("")
    page.get_by_label("Status").select_option("draft")
    expect(page.get_by_role("row")).to_have_count(3)
    page.get_by_label("Sort by").select_option("name")
    expect(page.locator(".campaign-name a")).to_have_text(["Autumn drive", "Summer survey"])
    assert_accessible(page)


def test_it_shows_a_viewer_no_control(page, live_server, sign_in, viewer, manager, screenshot):
    campaign = CampaignFactory(name="Read only", contact_list=ContactListFactory(size=3))
    running = ChannelFactory(campaign=campaign, name="Calls", kind=Channel.Kind.AI_VOICE)
    ChannelFactory(campaign=campaign, name="Texts")
    running.start(by=manager)
    sign_in(viewer)
    expect(page.get_by_role("link", name="New campaign")).to_have_count(0)
    page.get_by_role("link", name="Read only").click()
    expect(page.locator("#campaign-status")).to_have_text("Active")
    expect(channel_card(page, "Calls").locator("[data-status]")).to_have_text("Running")
    buttons = page.get_by_role("button").all_inner_texts()
    assert buttons == ["Sign out"], buttons
    expect(page.get_by_text("Settings", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Add channel")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^(Edit|Remove)"))).to_have_count(0)
    assert_accessible(page)
    screenshot("command-center-viewer")
    # The server refuses a viewer who posts anyway.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(
        f"{live_server.url}/channels/{running.pk}/pause/", headers={"X-CSRFToken": token}
    )
    assert response.status == 403
    running.refresh_from_db()
    assert running.status == Channel.Status.RUNNING


def test_it_stops_a_channel_without_javascript(browser, live_server, manager):
    campaign = CampaignFactory(name="No script", contact_list=ContactListFactory(size=2))
    channel = ChannelFactory(campaign=campaign, name="Calls", kind=Channel.Kind.AI_VOICE)
    channel.start(by=manager)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(manager.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Pause").click()
    expect(channel_card(page, "Calls").locator("[data-status]")).to_have_text("Paused")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Stopping is permanent.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Stop").click()
    expect(channel_card(page, "Calls").locator("[data-status]")).to_have_text("Stopped")
    expect(page.get_by_text("“Calls” stopped.")).to_be_visible()
    context.close()


# -- needs the engine ------------------------------------------------------------------


def database_url() -> str:
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    user, password = database.get("USER", ""), database.get("PASSWORD", "")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgres://{credentials}{database['HOST']}:{database['PORT']}/{database['NAME']}"


@pytest.fixture
def worker(live_server):
    """A real `db_worker` on the live server's database, stopped before the tables flush."""
    env = {**os.environ, "DATABASE_URL": database_url()}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.2"], cwd=PROJECT, env=env
    )
    yield process
    process.terminate()
    process.wait(timeout=10)


def processed(card) -> int:
    return int(card.locator("progress").get_attribute("data-processed"))


@pytest.mark.skipif(not ENGINE_PRESENT, reason="needs the engine (channels/tasks.py)")
def test_it_shows_the_engine_working_live(page, live_server, sign_in, manager, worker, screenshot):
    campaign = CampaignFactory(name="Live run", contact_list=ContactListFactory(size=40))
    ChannelFactory(campaign=campaign, name="Calls", kind=Channel.Kind.AI_VOICE, max_per_second=3)
    ChannelFactory(campaign=campaign, name="Texts", kind=Channel.Kind.SMS, max_per_second=1)
    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    voice, sms = channel_card(page, "Calls"), channel_card(page, "Texts")
    page.evaluate("window.noReloadSince = Date.now()")

    voice.get_by_role("button", name="Start").click()
    expect(page.locator("#campaign-status")).to_have_text("Active")
    expect(sms.locator("[data-status]")).to_have_text("Ready")
    # The bar moves by polling alone.
    expect(voice.locator("progress")).not_to_have_attribute("data-processed", "0", timeout=30_000)
    first = processed(voice)
    expect(voice.locator("progress")).not_to_have_attribute(
        "data-processed", str(first), timeout=30_000
    )
    expect(voice.locator(".rate")).to_contain_text("contacts/s")
    screenshot("command-center-running")

    # Pause: once the calls in flight have finished, the counts stop moving.
    voice.get_by_role("button", name="Pause").click()
    expect(voice.locator("[data-status]")).to_have_text("Paused")
    expect(voice.locator("[data-in-flight]")).to_have_text("0", timeout=30_000)
    held = processed(voice)
    time.sleep(4)
    assert processed(voice) == held

    # Resume and watch it finish, with exactly one delivery per contact.
    voice.get_by_role("button", name="Resume").click()
    expect(voice.locator("[data-status]")).to_have_text("Completed", timeout=120_000)
    expect(voice.locator(".progress-label")).to_contain_text("40 of 40 processed")

    sms.get_by_role("button", name="Start").click()
    expect(sms.locator("[data-status]")).to_have_text("Running")
    sms.get_by_role("button", name="Stop").click()
    confirm_in_dialog(page, says="Stopping is permanent", button="Stop channel")
    expect(sms.locator("[data-status]")).to_have_text("Stopped")
    expect(page.locator("#campaign-status")).to_have_text("Completed")
    expect(page.locator("#live[data-polling]")).to_have_count(0, timeout=30_000)
    assert page.evaluate("window.noReloadSince") is not None, "the page reloaded"
    screenshot("command-center-finished")
