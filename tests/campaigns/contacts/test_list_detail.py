"""A contact list's page: its contacts, search and pages."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, ContactListFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def detail_url(contact_list) -> str:
    return reverse("contacts:list_detail", args=[contact_list.pk])


def test_it_shows_contacts_with_opt_outs(viewer_client):
    membership = MembershipFactory(contact=ContactFactory(name="Olga", opted_out_sms=True))
    response = viewer_client.get(detail_url(membership.contact_list))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Olga" in html and "SMS" in html
    assert "Import contacts from a CSV file" not in html  # a viewer changes nothing


@pytest.mark.parametrize(
    ("query", "found"),
    [("olga", "Olga Ivanova"), ("555 0142", "Olga Ivanova"), ("PIET@", "Piet Jansen")],
)
def test_it_searches_by_name_phone_and_email(viewer_client, query, found):
    contact_list = ContactListFactory()
    MembershipFactory(
        contact_list=contact_list,
        contact=ContactFactory(name="Olga Ivanova", phone="+12025550142", email="o@example.com"),
    )
    MembershipFactory(
        contact_list=contact_list,
        contact=ContactFactory(name="Piet Jansen", phone="+12025550199", email="piet@example.com"),
    )
    response = viewer_client.get(detail_url(contact_list), {"q": query})
    names = [m.contact.name for m in response.context["page"]]
    assert names == [found]


def test_it_renders_only_the_contacts_region_for_htmx(viewer_client):
    contact_list = ContactListFactory(size=2)
    response = viewer_client.get(
        detail_url(contact_list),
        {"q": "Contact"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="contacts",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="contacts"')
    assert "<html" not in html
    # The header's figures come along, out of band: an import that finished updates them.
    assert '<p class="muted" id="list-summary" hx-swap-oob="true">2 contacts' in html


def test_it_paginates(viewer_client):
    contact_list = ContactListFactory(size=55)
    first = viewer_client.get(detail_url(contact_list))
    second = viewer_client.get(detail_url(contact_list), {"page": 2})
    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 5
    assert "Page 1 of 2" in first.content.decode()


def test_it_is_404_for_a_missing_list(viewer_client):
    assert viewer_client.get(reverse("contacts:list_detail", args=[999])).status_code == 404
