"""Every page fits a 360 px phone without sideways scrolling (issue 12, point 6).

The demo data (`seed_demo`) gives every page something realistic to show: campaigns in
every status, channels with results, contact lists, an import. The Settings menu of the
command center must open inside the screen too, with Edit and Delete Campaign visible.
"""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import Campaign, ContactList
from channels.models import Channel, Delivery
from tests.browser.conftest import SCREENSHOTS
from tests.factories import ImportJobFactory, ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = 360


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": PHONE, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def every_page() -> list[str]:
    """One address of every HTML page a person can open, from the demo data."""
    draft = Campaign.objects.get(name="Spring Collection Launch")
    active = Campaign.objects.get(name="Winter Loyalty Drive")
    completed = Campaign.objects.get(name="Black Friday Blast")
    finished = Channel.objects.filter(campaign=completed).first()
    running = Channel.objects.get(campaign=active, status=Channel.Status.RUNNING)
    paused = Channel.objects.get(campaign=active, status=Channel.Status.PAUSED)
    ready = Channel.objects.filter(campaign=draft).first()
    contact_list = ContactList.objects.order_by("pk").first()
    contact = Delivery.objects.filter(converted=False, outcome="delivered").first().contact
    job = ImportJobFactory(contact_list=contact_list, status="completed", rows_rejected=2)
    return [
        reverse("campaigns:list"),
        reverse("campaigns:list") + "?status=archived",
        reverse("campaigns:create"),
        reverse("campaigns:detail", args=[active.pk]),
        reverse("campaigns:detail", args=[completed.pk]),
        reverse("campaigns:edit", args=[active.pk]),
        reverse("campaigns:archive", args=[completed.pk]),
        reverse("campaigns:delete", args=[draft.pk]),
        reverse("campaigns:add_channel", args=[draft.pk]),
        reverse("campaigns:analytics", args=[active.pk]),
        reverse("campaigns:analytics", args=[completed.pk]),
        reverse("channels:providers"),
        reverse("channels:edit", args=[paused.pk]),
        reverse("channels:stop", args=[running.pk]),
        reverse("channels:remove", args=[ready.pk]),
        reverse("channels:upload_conversions", args=[finished.pk]),
        reverse("channels:remarket", args=[finished.pk]),
        reverse("contacts:lists"),
        reverse("contacts:list_detail", args=[contact_list.pk]),
        reverse("contacts:import_new"),
        reverse("contacts:import_detail", args=[job.pk]),
        reverse("contacts:contact", args=[contact.pk]),
        reverse("unsubscribe", args=["not-a-token"]),
        "/campaigns/999999/",  # the 404 page
    ]


# What sticks out of the screen, outside the boxes that scroll by themselves (for the report).
OFFENDERS = """
[...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth
    && !e.parentElement.closest(".table-wrap"))
  .map((e) => `${e.tagName}.${e.className}#${e.id}: ${e.getBoundingClientRect().right}`)
  .slice(0, 12)
"""


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_every_page_fits_a_phone(phone, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    call_command("seed_demo")
    manager = ManagerFactory(username="phone")
    pages = every_page()

    phone.goto(f"{live_server.url}/accounts/login/")
    assert page_width(phone) <= PHONE, "the login page is wider than a phone"
    phone.get_by_label("Username").fill(manager.username)
    phone.get_by_label("Password").fill("password")
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(f"{live_server.url}/campaigns/**")

    too_wide = {}
    for path in pages:
        response = phone.goto(f"{live_server.url}{path}")
        assert response.status in (200, 400, 404), (path, response.status)
        if (width := page_width(phone)) > PHONE:
            too_wide[path] = (width, phone.evaluate(OFFENDERS))
            name = path.strip("/").replace("/", "-") or "root"
            phone.screenshot(path=str(SCREENSHOTS / f"phone-too-wide-{name}.png"), full_page=True)
    assert not too_wide, f"pages wider than {PHONE} px: {too_wide}"


def test_the_settings_menu_opens_inside_the_screen(phone, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    call_command("seed_demo")
    manager = ManagerFactory(username="phone")
    campaign = Campaign.objects.get(name="Spring Collection Launch")
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.get_by_label("Username").fill(manager.username)
    phone.get_by_label("Password").fill("password")
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(f"{live_server.url}/campaigns/**")
    phone.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    phone.get_by_text("Settings", exact=True).click()
    for name in ("Edit", "Delete Campaign"):
        item = phone.locator("#settings-menu").get_by_role("link", name=name)
        expect(item).to_be_visible()
        box = item.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, (name, box)
    assert page_width(phone) <= PHONE
    phone.screenshot(path=str(SCREENSHOTS / "phone-settings-menu.png"))
