"""A viewer sees everything and is shown nothing they could not do (SPEC 6): no form they
cannot submit, no button that posts, no link to a page that refuses them.

The test walks the site as a viewer from the campaign list, following every link it is
shown, over data with a channel in each status, deliveries (some converted), a contact
list with an import, and an archived campaign.
"""

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import reverse

from channels.models import Channel
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactListFactory,
    ImportJobFactory,
    build_ledger,
    put_channel_in,
)

pytestmark = pytest.mark.django_db

#: Links the walk does not follow: downloads, the admin (its own permissions), signing out.
NOT_FOLLOWED = (".csv", "/admin/", "/accounts/logout/")
MAX_PAGES = 120


class Page(HTMLParser):
    """The links, forms and htmx posts of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str]] = []  # (method, action)
        self.posting: list[str] = []  # elements that post through htmx

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "form":
            self.forms.append(((attrs.get("method") or "get").lower(), attrs.get("action", "")))
        for verb in ("hx-post", "hx-put", "hx-patch", "hx-delete"):
            if verb in attrs:
                self.posting.append(f"<{tag} {verb}={attrs[verb]}>")


@pytest.fixture
def site(manager):
    contact_list = ContactListFactory(name="Donors")
    campaign = CampaignFactory(name="Spring", contact_list=contact_list)
    for status in Channel.Status:
        channel = ChannelFactory(campaign=campaign, name=f"{status.label} texts")
        if status != Channel.Status.READY:
            put_channel_in(channel, status)
    finished = campaign.channels.get(status=Channel.Status.COMPLETED)
    build_ledger(
        finished, [("done", "delivered", True), ("done", "delivered"), ("failed", "failed")]
    )
    campaign.job = ImportJobFactory(contact_list=contact_list)
    campaign.refresh_status()
    archived = CampaignFactory(name="Old")
    put_channel_in(ChannelFactory(campaign=archived), Channel.Status.COMPLETED)
    archived.refresh_status()
    archived.archive(by=manager)
    return campaign


def walk(client, *starts: str) -> dict[str, tuple[int, Page]]:
    seen: dict[str, tuple[int, Page]] = {}
    queue = list(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url, follow=True)  # "/" leads to the campaign list
        page = Page()
        if "text/html" in response.get("Content-Type", ""):
            page.feed(response.content.decode())
        seen[url] = (response.status_code, page)
        for href in page.links:
            link = urldefrag(href)[0]
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith("/"):
                continue
            if not any(skip in parts.path for skip in NOT_FOLLOWED):
                queue.append(link)
    return seen


def test_a_viewer_is_shown_no_form_they_cannot_submit(viewer_client, site):
    pages = walk(
        viewer_client,
        reverse("campaigns:list"),
        # Pages and partials reached by a GET form or by htmx rather than by a link.
        reverse("campaigns:list") + "?status=archived",
        reverse("campaigns:live", args=[site.pk]),
        reverse("campaigns:activity", args=[site.pk]),
        reverse("contacts:import_detail", args=[site.job.pk]),
    )
    visited = set(pages)
    # The walk reached the pages a viewer reads, and through their links only.
    for page in (
        site.get_absolute_url(),
        reverse("campaigns:analytics", args=[site.pk]),
        reverse("contacts:lists"),
        site.contact_list.get_absolute_url(),
        site.contact_list.contacts.first().get_absolute_url(),
        reverse("channels:providers"),
    ):
        assert page in visited, f"the walk never reached {page}"
    logout = reverse("logout")
    for url, (status, page) in pages.items():
        assert status == 200, f"a viewer is shown a link to {url}, which answers {status}"
        # GET forms (filters, search) and the confirmation dialog's are harmless.
        # Signing out and one's own time zone are everyone's to change.
        own = (logout, reverse("preferences:edit"))
        posts = [form for form in page.forms if form[0] == "post" and form[1] not in own]
        assert not posts, f"{url} shows a viewer {posts}"
        assert not page.posting, f"{url} shows a viewer {page.posting}"


def test_a_manager_walking_the_same_pages_is_shown_the_forms(manager_client, site):
    """The walk sees forms where there are some: the test above would catch one."""
    pages = walk(manager_client, reverse("campaigns:list"))
    posting = [url for url, (_, page) in pages.items() if any(m == "post" for m, _ in page.forms)]
    assert site.contact_list.get_absolute_url() in posting
    assert site.contact_list.contacts.first().get_absolute_url() in posting


def test_a_viewer_asking_for_the_import_form_is_refused(viewer_client):
    response = viewer_client.get(reverse("contacts:import_new"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'method="post"' not in html.replace(
        f'<form class="account" method="post" action="{reverse("logout")}">', ""
    )
    assert 'type="file"' not in html
