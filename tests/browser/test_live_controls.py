"""The live page keeps every control working while it refreshes (SPEC section 5, issue 12).

Refreshes are forced from the test (the same GET the poll makes, issued by the live region
itself) at the worst moments: while the Stop dialog is open, while the pointer rests on a
button, between pressing and releasing it. Before each, the campaign's description grows,
so a refresh that went through would move every control down the page.
"""

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign
from channels.models import Channel
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory, put_channel_in

pytestmark = pytest.mark.django_db(transaction=True)

FORCE_REFRESH = """
() => {
  const live = document.querySelector("#live");
  const url = live.getAttribute("hx-get") || window.location.pathname + "live/";
  return htmx.ajax("GET", url, {source: live, target: "#live", swap: "outerHTML"});
}
"""


def running_campaign() -> tuple[Campaign, Channel]:
    campaign = CampaignFactory(name="Busy", contact_list=ContactListFactory(size=50))
    channel = put_channel_in(ChannelFactory(campaign=campaign, name="Calls"), "running")
    return campaign, channel


def grow_description(campaign: Campaign, *, lines: int = 12) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(
        description="\n".join(f"Line {n} of a long description." for n in range(lines))
    )


def test_it_stops_when_a_refresh_came_while_the_dialog_was_open(
    page, live_server, sign_in, manager
):
    campaign, channel = running_campaign()
    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Stop").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    grow_description(campaign)
    page.evaluate(FORCE_REFRESH)
    # Again with the pointer resting on the dialog's button.
    dialog.get_by_role("button", name="Stop channel").hover()
    page.evaluate(FORCE_REFRESH)
    dialog.get_by_role("button", name="Stop channel").click()
    card = page.locator(f"#channel-{channel.pk}")
    expect(card.locator("[data-status]")).to_have_text("Stopped")
    channel.refresh_from_db()
    assert channel.status == Channel.Status.STOPPED


def test_it_never_moves_a_button_under_the_pointer(page, live_server, sign_in, manager):
    campaign, channel = running_campaign()
    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    box = page.get_by_role("button", name="Pause").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    # A refresh while the pointer rests on Pause, then the click.
    page.mouse.move(x, y)
    grow_description(campaign)
    page.evaluate(FORCE_REFRESH)
    page.mouse.click(x, y)
    expect(page.locator(f"#channel-{channel.pk} [data-status]")).to_have_text("Paused")
    channel.refresh_from_db()
    assert channel.status == Channel.Status.PAUSED

    # A refresh between pressing and releasing Resume (now where Pause was).
    resume = page.get_by_role("button", name="Resume")
    resume.scroll_into_view_if_needed()
    box = resume.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    grow_description(campaign, lines=20)
    page.evaluate(FORCE_REFRESH)
    page.mouse.up()
    expect(page.locator(f"#channel-{channel.pk} [data-status]")).to_have_text("Running")

    # Once the pointer leaves the controls, the next refresh brings the new figures.
    page.mouse.move(1, 1)
    page.evaluate(FORCE_REFRESH)
    expect(page.get_by_text("Line 19 of a long description.")).to_be_visible()


def test_it_refreshes_under_a_resting_pointer_when_no_control_moves(
    page, live_server, sign_in, manager
):
    campaign, channel = running_campaign()
    sign_in(manager)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    box = page.get_by_role("button", name="Pause").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    Channel.objects.filter(pk=channel.pk).update(processed=7)
    page.evaluate(FORCE_REFRESH)
    expect(page.locator(f"#channel-{channel.pk}-progress")).to_contain_text("7 of")
    # The swapped-in region is live: its Pause still acts.
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(f"#channel-{channel.pk} [data-status]")).to_have_text("Paused")


COUNT_SYNTAX_ERRORS = """
window.htmxSyntaxErrors = 0;
document.addEventListener("htmx:syntax:error", () => { window.htmxSyntaxErrors += 1; });
let hiddenForTest = false;
Object.defineProperty(document, "hidden", { configurable: true, get: () => hiddenForTest });
window.setHiddenForTest = (hidden) => {
  hiddenForTest = hidden;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


def test_it_refreshes_on_return_to_the_tab_with_a_valid_trigger(
    page, live_server, sign_in, manager
):
    page.add_init_script(COUNT_SYNTAX_ERRORS)
    campaign, channel = running_campaign()
    sign_in(manager)
    refreshes = []
    page.on("request", lambda r: refreshes.append(r.url) if "/live/" in r.url else None)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.evaluate("window.setHiddenForTest(true)")
    page.wait_for_timeout(2_500)  # hidden: no refresh on leaving, the two-second one is quiet
    assert refreshes == []
    Channel.objects.filter(pk=channel.pk).update(processed=9)
    page.evaluate("window.setHiddenForTest(false)")
    page.wait_for_timeout(500)
    assert len(refreshes) == 1, refreshes
    expect(page.locator(f"#channel-{channel.pk}-progress")).to_contain_text("9 of")
    assert page.evaluate("window.htmxSyntaxErrors") == 0
