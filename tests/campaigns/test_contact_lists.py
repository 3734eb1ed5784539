"""The contact list pages: index, create, detail and search, rename, delete, add, remove,
export."""

import csv
import io

import pytest
from django.urls import reverse

from campaigns.exporting import csv_stream, neutralize_cell
from campaigns.models import Contact, ContactList, Membership
from tests.factories import CampaignFactory, ContactFactory, ContactListFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def detail_url(contact_list) -> str:
    return reverse("contacts:list_detail", args=[contact_list.pk])


def action_url(name: str, contact_list, *args) -> str:
    return reverse(f"contacts:{name}", args=[contact_list.pk, *args])


# -- index and create ---------------------------------------------------------------------


def test_it_lists_lists_with_size_and_campaigns(viewer_client):
    used = ContactListFactory(name="Donors", size=3)
    CampaignFactory(name="Spring appeal", contact_list=used)
    ContactListFactory(name="Unused")
    response = viewer_client.get(reverse("contacts:lists"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Donors" in html and "Spring appeal" in html and "Unused" in html
    assert "No campaign" in html


def test_it_redirects_to_login(client):
    response = client.get(reverse("contacts:lists"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_creates_a_list(manager_client, manager):
    response = manager_client.post(reverse("contacts:list_create"), {"name": "Volunteers"})
    contact_list = ContactList.objects.get(name="Volunteers")
    assert response.status_code == 302
    assert response.url == detail_url(contact_list)
    assert contact_list.created_by == manager


def test_it_refuses_a_duplicate_list_name(manager_client):
    ContactListFactory(name="Volunteers")
    response = manager_client.post(reverse("contacts:list_create"), {"name": "Volunteers"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert ContactList.objects.count() == 1


def test_create_needs_post(manager_client):
    assert manager_client.get(reverse("contacts:list_create")).status_code == 405


def test_a_viewer_cannot_create_a_list(viewer_client):
    response = viewer_client.post(reverse("contacts:list_create"), {"name": "Volunteers"})
    assert response.status_code == 403
    assert not ContactList.objects.exists()


# -- detail -------------------------------------------------------------------------------


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


def test_it_paginates(viewer_client):
    contact_list = ContactListFactory(size=55)
    first = viewer_client.get(detail_url(contact_list))
    second = viewer_client.get(detail_url(contact_list), {"page": 2})
    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 5
    assert "Page 1 of 2" in first.content.decode()


def test_detail_is_404_for_a_missing_list(viewer_client):
    assert viewer_client.get(reverse("contacts:list_detail", args=[999])).status_code == 404


# -- rename -------------------------------------------------------------------------------


def test_it_renames_a_list(manager_client):
    contact_list = ContactListFactory(name="Old")
    response = manager_client.post(action_url("list_rename", contact_list), {"name": "New"})
    assert response.status_code == 302
    contact_list.refresh_from_db()
    assert contact_list.name == "New"


def test_rename_refuses_a_taken_name(manager_client):
    ContactListFactory(name="Taken")
    contact_list = ContactListFactory(name="Old")
    response = manager_client.post(action_url("list_rename", contact_list), {"name": "Taken"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    contact_list.refresh_from_db()
    assert contact_list.name == "Old"


def test_rename_refuses_a_blank_name(manager_client):
    contact_list = ContactListFactory(name="Old")
    response = manager_client.post(action_url("list_rename", contact_list), {"name": ""})
    assert response.status_code == 400
    contact_list.refresh_from_db()
    assert contact_list.name == "Old"


def test_rename_needs_post(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.get(action_url("list_rename", contact_list)).status_code == 405


def test_a_viewer_cannot_rename(viewer_client):
    contact_list = ContactListFactory(name="Old")
    response = viewer_client.post(action_url("list_rename", contact_list), {"name": "New"})
    assert response.status_code == 403
    contact_list.refresh_from_db()
    assert contact_list.name == "Old"


def test_rename_is_404_for_a_missing_list(manager_client):
    response = manager_client.post(reverse("contacts:list_rename", args=[999]), {"name": "X"})
    assert response.status_code == 404


# -- delete -------------------------------------------------------------------------------


def test_it_deletes_an_unused_list_and_keeps_the_contacts(manager_client):
    contact_list = ContactListFactory(size=2)
    response = manager_client.post(action_url("list_delete", contact_list))
    assert response.status_code == 302
    assert response.url == reverse("contacts:lists")
    assert not ContactList.objects.exists()
    assert not Membership.objects.exists()
    assert Contact.objects.count() == 2


def test_it_refuses_to_delete_a_list_a_campaign_uses(manager_client):
    campaign = CampaignFactory(name="Spring appeal", contact_list=ContactListFactory(size=2))
    response = manager_client.post(action_url("list_delete", campaign.contact_list))
    assert response.status_code == 409
    assert "used by “Spring appeal”" in response.content.decode()
    assert ContactList.objects.filter(pk=campaign.contact_list.pk).exists()
    assert Membership.objects.count() == 2


def test_delete_needs_post(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.get(action_url("list_delete", contact_list)).status_code == 405
    assert ContactList.objects.exists()


def test_a_viewer_cannot_delete(viewer_client):
    contact_list = ContactListFactory()
    assert viewer_client.post(action_url("list_delete", contact_list)).status_code == 403
    assert ContactList.objects.exists()


def test_delete_is_404_for_a_missing_list(manager_client):
    assert manager_client.post(reverse("contacts:list_delete", args=[999])).status_code == 404


# -- add and remove -----------------------------------------------------------------------

NEW_CONTACT = {
    "name": "Ann",
    "phone": "(202) 555-0101",
    "email": "Ann@Example.com",
    "timezone": "UTC",
}


def test_it_adds_a_new_contact(manager_client):
    contact_list = ContactListFactory()
    response = manager_client.post(action_url("list_add_contact", contact_list), NEW_CONTACT)
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.phone, contact.email) == ("+12025550101", "ann@example.com")
    contact_list.refresh_from_db()
    assert contact_list.size == 1


def test_adding_a_known_address_reuses_the_contact(manager_client):
    existing = ContactFactory(phone="+12025550101", email="")
    contact_list = ContactListFactory()
    manager_client.post(action_url("list_add_contact", contact_list), NEW_CONTACT)
    assert Contact.objects.get() == existing
    assert list(contact_list.contacts.all()) == [existing]


def test_adding_a_member_again_is_a_no_op(manager_client):
    membership = MembershipFactory(contact=ContactFactory(phone="+12025550101"))
    response = manager_client.post(
        action_url("list_add_contact", membership.contact_list), NEW_CONTACT, follow=True
    )
    assert "already in this list" in response.content.decode()
    membership.contact_list.refresh_from_db()
    assert membership.contact_list.size == 1


def test_adding_refuses_a_bad_phone(manager_client):
    contact_list = ContactListFactory()
    data = {**NEW_CONTACT, "phone": "12"}
    response = manager_client.post(action_url("list_add_contact", contact_list), data)
    assert response.status_code == 400
    assert "not a valid phone number" in response.content.decode()
    assert not Contact.objects.exists()


def test_a_viewer_cannot_add(viewer_client):
    contact_list = ContactListFactory()
    response = viewer_client.post(action_url("list_add_contact", contact_list), NEW_CONTACT)
    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_add_needs_post(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.get(action_url("list_add_contact", contact_list)).status_code == 405


def test_it_removes_a_contact_from_the_list(manager_client):
    membership = MembershipFactory()
    url = action_url("list_remove_contact", membership.contact_list, membership.contact.pk)
    assert manager_client.post(url).status_code == 302
    membership.contact_list.refresh_from_db()
    assert membership.contact_list.size == 0
    assert Contact.objects.filter(pk=membership.contact.pk).exists()


def test_removing_a_non_member_is_a_no_op(manager_client):
    contact_list = ContactListFactory(size=1)
    other = ContactFactory()
    url = action_url("list_remove_contact", contact_list, other.pk)
    response = manager_client.post(url, follow=True)
    assert "is not in this list" in response.content.decode()
    contact_list.refresh_from_db()
    assert contact_list.size == 1


def test_a_viewer_cannot_remove(viewer_client):
    membership = MembershipFactory()
    url = action_url("list_remove_contact", membership.contact_list, membership.contact.pk)
    assert viewer_client.post(url).status_code == 403
    assert Membership.objects.exists()


def test_remove_is_404_for_a_missing_contact(manager_client):
    contact_list = ContactListFactory()
    url = action_url("list_remove_contact", contact_list, 999)
    assert manager_client.post(url).status_code == 404


# -- export -------------------------------------------------------------------------------


def test_neutralize_cell_prefixes_formula_starts():
    assert [
        neutralize_cell(v) for v in ["=1+1", "+44", "-2", "@SUM(A1)", "\tx", "ok", None, 3]
    ] == [
        "'=1+1",
        "'+44",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        "",
        "3",
    ]


def test_csv_stream_neutralizes_every_cell():
    text = "".join(csv_stream([["=cmd|' /C calc'!A0", "fine"]], bom=False))
    assert next(csv.reader(io.StringIO(text))) == ["'=cmd|' /C calc'!A0", "fine"]


def test_it_exports_the_list_as_neutralised_streamed_csv(viewer_client):
    contact_list = ContactListFactory()
    MembershipFactory(
        contact_list=contact_list,
        contact=ContactFactory(
            name='=HYPERLINK("http://evil")',
            phone="+12025550101",
            email="a@example.com",
            attributes={"city": "@Paris"},
            opted_out_sms=True,
        ),
    )
    MembershipFactory(
        contact_list=contact_list,
        contact=ContactFactory(
            name="Bob", phone="", email="b@example.com", attributes={"tier": "-1"}
        ),
    )
    response = viewer_client.get(action_url("list_export", contact_list))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["name", "phone", "email", "timezone", "opted_out", "city", "tier"],
        [
            '\'=HYPERLINK("http://evil")',
            "'+12025550101",
            "a@example.com",
            "UTC",
            "sms",
            "'@Paris",
            "",
        ],
        ["Bob", "", "b@example.com", "UTC", "", "", "'-1"],
    ]


def test_export_is_404_for_a_missing_list(viewer_client):
    assert viewer_client.get(reverse("contacts:list_export", args=[999])).status_code == 404
