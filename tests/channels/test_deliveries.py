"""GET channels:deliveries — a channel's deliveries table: filters, search, keyset pages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.deliveries import PAGE_SIZE
from channels.models import Channel, Delivery
from tests.conftest import HTMX, url_for
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    DeliveryFactory,
    UserFactory,
    build_ledger,
    put_channel_in,
)

pytestmark = pytest.mark.django_db

url_of = url_for("channels:deliveries")


def shown_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tbody id="delivery-(\d+)"', response.content.decode())]


def link(response, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return found and found.group(1).replace("&amp;", "&")


def ledger(size: int, **channel_fields) -> tuple[Channel, list[Delivery]]:
    channel = ChannelFactory(**channel_fields)
    deliveries = build_ledger(channel, [(Delivery.State.DONE, "delivered")] * size)
    return put_channel_in(channel, Channel.Status.RUNNING), deliveries


def test_it_shows_the_newest_page_with_a_cursor_to_the_next(viewer_client):
    channel, deliveries = ledger(PAGE_SIZE + 5)
    other_channel, _ = ledger(3)
    response = viewer_client.get(url_of(channel))
    assert response.status_code == 200
    newest_first = sorted((d.pk for d in deliveries), reverse=True)
    assert shown_ids(response) == newest_first[:PAGE_SIZE]
    assert link(response, "next") == f"?after={newest_first[PAGE_SIZE - 1]}"
    assert link(response, "prev") is None
    html = response.content.decode()
    newest = Delivery.objects.select_related("contact").get(pk=newest_first[0])
    assert newest.contact.name in html and newest.contact.phone in html
    # The project's date format, machine-readable too.
    assert f'<time datetime="{newest.created_at.isoformat()}"' in html  # the one date format
    assert f'datetime="{newest.created_at.isoformat()}"' in html
    assert 'data-outcome="delivered">Delivered<' in html


def test_it_pages_through_every_delivery_once_and_back(viewer_client):
    channel, deliveries = ledger(2 * PAGE_SIZE + 7)
    seen, pages, url = [], [], url_of(channel)
    while url:
        response = viewer_client.get(url)
        pages.append(shown_ids(response))
        seen += pages[-1]
        following = link(response, "next")
        url = following and url_of(channel) + following
    assert seen == sorted((d.pk for d in deliveries), reverse=True)
    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    # Previous from the last page gives the middle page, from there the first.
    back = viewer_client.get(url_of(channel) + f"?before={pages[2][0]}")
    assert shown_ids(back) == pages[1]
    first = viewer_client.get(url_of(channel) + link(back, "prev"))
    assert shown_ids(first) == pages[0]
    assert link(first, "prev") is None


def test_it_shows_a_full_first_page_when_previous_reaches_the_newest(viewer_client):
    channel, deliveries = ledger(PAGE_SIZE + 10)
    newest_first = sorted((d.pk for d in deliveries), reverse=True)
    # A cursor only 3 rows from the top: the first page, all 50 rows, not 3.
    response = viewer_client.get(url_of(channel) + f"?before={newest_first[3]}")
    assert shown_ids(response) == newest_first[:PAGE_SIZE]
    assert link(response, "prev") is None


def test_it_filters_by_outcome_and_state_and_keeps_them_in_the_cursor(viewer_client):
    channel = ChannelFactory(kind=Channel.Kind.AI_VOICE)
    rows = [(Delivery.State.DONE, "answered"), (Delivery.State.DONE, "no_answer")] * PAGE_SIZE
    rows += [(Delivery.State.SKIPPED, "")] * 3
    deliveries = build_ledger(channel, rows)
    response = viewer_client.get(url_of(channel), {"outcome": "no_answer"})
    no_answer = sorted((d.pk for d in deliveries if d.outcome == "no_answer"), reverse=True)
    assert shown_ids(response) == no_answer[:PAGE_SIZE]
    assert link(response, "next") is None  # exactly 50 of them
    response = viewer_client.get(url_of(channel), {"state": "skipped"})
    assert sorted(shown_ids(response)) == [d.pk for d in deliveries if d.state == "skipped"]
    response = viewer_client.get(url_of(channel), {"state": "done"})
    following = link(response, "next")
    assert "state=done" in following and "after=" in following
    rest = viewer_client.get(url_of(channel) + following)
    done = sorted((d.pk for d in deliveries if d.state == "done"), reverse=True)
    assert shown_ids(rest) == done[PAGE_SIZE : 2 * PAGE_SIZE]


def test_it_offers_only_the_channels_own_outcomes(viewer_client):
    channel, _ = ledger(1, kind=Channel.Kind.EMAIL)
    html = viewer_client.get(url_of(channel)).content.decode()
    assert '<option value="bounced">Bounced</option>' in html
    assert 'value="no_answer"' not in html


@pytest.mark.parametrize(
    "query",
    [
        "outcome=exploded",
        "state=lost",
        "after=abc",
        "after=-4",
        "before=0",
        f"after={2**64}",
        f"before={2**63}",
        "q=" + "x" * 500,
        "q=%00",
        "q=()",
        "outcome=sent&outcome=delivered",  # the last one counts
    ],
)
def test_it_ignores_a_bad_query_string_cleanly(viewer_client, query):
    channel, deliveries = ledger(3)
    response = viewer_client.get(url_of(channel) + "?" + query)
    assert response.status_code == 200
    if query.startswith(("after", "before", "outcome=sent")):
        assert shown_ids(response) == sorted((d.pk for d in deliveries), reverse=True)


def test_it_says_which_filter_it_ignored(viewer_client):
    channel, deliveries = ledger(2)
    response = viewer_client.get(url_of(channel), {"outcome": "exploded"})
    assert "Ignored: Select a valid choice." in response.content.decode()
    assert len(shown_ids(response)) == 2


def contacts_in(channel: Channel, *contacts) -> dict[str, Delivery]:
    return {c.name: DeliveryFactory(channel=channel, contact=c) for c in contacts}


def test_it_finds_a_contact_by_name_email_or_phone(viewer_client):
    channel = ChannelFactory()
    ana = ContactFactory(
        name="Ana María Lopez", email="ana.lopez@example.com", phone="+12025550143"
    )
    bob = ContactFactory(name="Bob Analyst", email="bob@example.org", phone="+12025550199")
    cid = ContactFactory(name="Cid", email="cid@example.net", phone="+447911123456")
    shown = contacts_in(channel, ana, bob, cid)
    # Ana in another channel too: only this channel's delivery is listed.
    DeliveryFactory(contact=ana)
    expected = {
        "lopez": [ana],
        "ANA": [ana, bob],  # part of the name, any case
        "Ana@Example.com": [],
        "ANA.LOPEZ@EXAMPLE.COM": [ana],  # emails are stored lower-cased
        "bob@": [bob],  # an email's prefix
        "bob@example.or": [],  # a whole address is matched exactly
        "(202) 555-0143": [ana],  # typed any way, matched as E.164
        "+44 7911 123456": [cid],
        "555-01": [ana, bob],  # part of a number
        "nobody": [],
    }
    for query, contacts in expected.items():
        response = viewer_client.get(url_of(channel), {"q": query})
        assert response.status_code == 200
        assert sorted(shown_ids(response)) == sorted(shown[c.name].pk for c in contacts), query


def test_it_refuses_a_user_without_the_view_permission(client):
    channel, _ = ledger(1)
    client.force_login(UserFactory())
    assert client.get(url_of(channel)).status_code == 403


def test_it_sends_an_anonymous_visitor_to_sign_in(client):
    channel, _ = ledger(1)
    response = client.get(url_of(channel))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_answers_404_for_a_missing_channel(viewer_client):
    assert viewer_client.get(url_of(999_999)).status_code == 404


def test_it_refuses_post(manager_client):
    channel, _ = ledger(1)
    assert manager_client.post(url_of(channel)).status_code == 405


def test_it_answers_htmx_with_the_table_alone(viewer_client):
    channel, deliveries = ledger(3)
    response = viewer_client.get(url_of(channel), {"outcome": "delivered"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="deliveries"')
    assert "<html" not in html and 'id="delivery-filters"' not in html
    assert len(shown_ids(response)) == 3
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_it_offers_mark_converted_to_managers_only_on_contacted_rows(manager_client, viewer):
    channel = ChannelFactory()
    delivered, skipped, converted = build_ledger(
        channel,
        [
            (Delivery.State.DONE, "delivered"),
            (Delivery.State.SKIPPED, ""),
            (Delivery.State.DONE, "sent", True),
        ],
    )
    html = manager_client.get(url_of(channel)).content.decode()
    assert f'<form id="delivery-{delivered.pk}-conversion"' in html
    assert f'<span class="muted" id="delivery-{skipped.pk}-conversion">Not converted' in html
    assert f'<span class="converted" id="delivery-{converted.pk}-conversion">Converted' in html
    manager_client.force_login(viewer)
    html = manager_client.get(url_of(channel)).content.decode()
    assert "Mark converted" not in html
    assert f'<form id="delivery-{delivered.pk}-conversion"' not in html


def test_it_marks_a_row_converted_inline_and_comes_back_to_the_same_page(manager_client):
    channel, deliveries = ledger(PAGE_SIZE + 2)
    page_two = url_of(channel) + f"?state=done&after={deliveries[2].pk}"
    target = deliveries[0]
    convert = url_for("channels:mark_converted")(target)
    response = manager_client.post(convert, {"next": page_two}, headers=HTMX)
    assert response.status_code == 200
    assert f'id="delivery-{target.pk}-conversion">Converted' in response.content.decode()
    target.refresh_from_db()
    assert target.converted
    # Without JavaScript the form's `next` brings the manager back to the page they were on.
    other = deliveries[1]
    response = manager_client.post(url_for("channels:mark_converted")(other), {"next": page_two})
    assert response.status_code == 302 and response["Location"] == page_two


def test_it_refuses_an_inline_mark_on_an_archived_campaign_with_409(manager_client):
    channel, (delivery,) = ledger(1)
    put_channel_in(channel, Channel.Status.COMPLETED)
    channel.campaign.refresh_status()
    channel.campaign.archive()
    html = manager_client.get(url_of(channel)).content.decode()
    assert "Mark converted" not in html  # not offered on an archived campaign
    response = manager_client.post(url_for("channels:mark_converted")(delivery), headers=HTMX)
    assert response.status_code == 409
    delivery.refresh_from_db()
    assert not delivery.converted


def page_queries(client, url: str) -> int:
    client.get(url)  # the session and permissions warm, as on every page after the first
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_it_reads_a_fixed_number_of_queries_whatever_the_rows_and_filters(manager_client):
    small, _ = ledger(2)
    big, deliveries = ledger(2 * PAGE_SIZE + 1)
    baseline = page_queries(manager_client, url_of(small))
    cursor = deliveries[20].pk  # full pages either way
    for query in ["", f"?after={cursor}", f"?before={cursor}", "?outcome=delivered&state=done"]:
        assert page_queries(manager_client, url_of(big) + query) == baseline, query
    assert page_queries(manager_client, url_of(big) + "?q=Contact") == baseline
    # Session, user, the user's permissions (2), the channel, the page of rows.
    assert baseline == 6
    # "Previous" that reaches the newest row reads the first page instead: one query more.
    near_top = deliveries[-3].pk
    assert page_queries(manager_client, url_of(big) + f"?before={near_top}") == baseline + 1


def test_the_command_center_links_each_started_channel_to_its_deliveries(viewer_client):
    started, _ = ledger(1)
    ready = ChannelFactory(campaign=started.campaign)
    html = viewer_client.get(started.campaign.get_absolute_url()).content.decode()
    assert f'href="{url_of(started)}"' in html
    assert f'href="{url_of(ready)}"' not in html
