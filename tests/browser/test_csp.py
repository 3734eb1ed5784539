"""Every page under Herald's Content-Security-Policy, in a real browser (issue 13, point 4):
no page may trip the policy (an inline script, handler or style, a remote origin), and the
scripts that make pages work still do (htmx, Chart.js, the confirmation dialog)."""

import pytest
from django.urls import reverse

from tests.factories import (
    ChannelFactory,
    ContactListFactory,
    DeliveryFactory,
    ImportJobFactory,
    MembershipFactory,
    SuperuserFactory,
    build_ledger,
    put_channel_in,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def violations(page):
    """Every CSP violation the pages report, from the browser's console and from the DOM."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " console.error(`Content Security Policy: ${e.violatedDirective} ${e.blockedURI}`));"
    )
    return seen


def every_page(tmp_path) -> list[str]:
    contact_list = ContactListFactory()
    membership = MembershipFactory(contact_list=contact_list)
    channel = ChannelFactory(campaign__contact_list=contact_list)
    build_ledger(channel, [("done", "delivered"), ("done", "failed")])
    put_channel_in(channel, "completed")
    campaign = channel.campaign
    campaign.refresh_status()
    delivery = DeliveryFactory(channel=channel, contact=membership.contact)
    job = ImportJobFactory(contact_list=contact_list)
    ready = ChannelFactory()
    return [
        reverse("campaigns:list"),
        reverse("campaigns:list") + "?status=archived",
        reverse("campaigns:create"),
        reverse("campaigns:detail", args=[campaign.pk]),
        reverse("campaigns:edit", args=[campaign.pk]),
        reverse("campaigns:archive", args=[campaign.pk]),
        reverse("campaigns:delete", args=[campaign.pk]),
        reverse("campaigns:add_channel", args=[campaign.pk]),
        reverse("campaigns:analytics", args=[campaign.pk]),
        reverse("campaigns:activity", args=[campaign.pk]),
        reverse("channels:schedule", args=[ready.pk]),
        reverse("preferences:edit"),
        reverse("contacts:import_cancel", args=[job.pk]),
        reverse("channels:providers"),
        reverse("channels:edit", args=[channel.pk]),
        reverse("channels:stop", args=[channel.pk]),
        reverse("channels:remove", args=[channel.pk]),
        reverse("channels:upload_conversions", args=[channel.pk]),
        reverse("channels:remarket", args=[channel.pk]),
        reverse("channels:deliveries", args=[channel.pk]) + "?outcome=delivered",
        reverse("channels:delivery", args=[delivery.pk]),
        reverse("contacts:lists"),
        reverse("contacts:list_detail", args=[contact_list.pk]),
        reverse("contacts:import_new"),
        reverse("contacts:import_detail", args=[job.pk]),
        reverse("contacts:contact", args=[delivery.contact.pk]),
        reverse("admin:index"),
        reverse("admin:campaigns_campaign_changelist"),
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        reverse("admin:channels_channel_change", args=[channel.pk]),
        "/no-such-page/",
    ]


def test_no_page_trips_the_policy(page, live_server, sign_in, violations, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    paths = every_page(tmp_path)
    sign_in(SuperuserFactory())
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert violations == [], f"{path}: {violations}"


def test_the_policy_is_sent_and_refuses_inline_script(page, live_server, sign_in, violations):
    sign_in(SuperuserFactory())
    response = page.goto(f"{live_server.url}{reverse('campaigns:list')}")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.append(s); }"
    )
    assert page.evaluate("() => window.ran") is None
    assert violations, "an inline script must be reported as a violation"


def test_htmx_and_the_list_delete_confirmation_still_work(page, live_server, sign_in):
    contact_list = ContactListFactory(name="Old leads")
    sign_in(SuperuserFactory())
    page.goto(f"{live_server.url}{reverse('contacts:list_detail', args=[contact_list.pk])}")
    assert page.evaluate("() => typeof htmx") == "object"
    page.get_by_role("button", name="Delete list").click()
    dialog = page.get_by_role("dialog")
    assert "Delete the list “Old leads”?" in dialog.inner_text()
    dialog.get_by_role("button", name="Delete list").click()
    page.wait_for_url(f"{live_server.url}{reverse('contacts:lists')}**")
    assert not type(contact_list).objects.filter(pk=contact_list.pk).exists()
