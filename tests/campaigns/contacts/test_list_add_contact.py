"""Adding a contact to a list from its page: a new contact, or the known one it is."""

import pytest
from django.urls import reverse

from campaigns.models import Contact
from tests.factories import ContactFactory, ContactListFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NEW_CONTACT = {
    "name": "Ann",
    "phone": "(202) 555-0101",
    "email": "Ann@Example.com",
    "timezone": "UTC",
}


def add_url(contact_list) -> str:
    return reverse("contacts:list_add_contact", args=[contact_list.pk])


def test_it_adds_a_new_contact(manager_client):
    contact_list = ContactListFactory()
    response = manager_client.post(add_url(contact_list), NEW_CONTACT)
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.phone, contact.email) == ("+12025550101", "ann@example.com")
    contact_list.refresh_from_db()
    assert contact_list.size == 1


def test_it_reuses_the_contact_of_a_known_address(manager_client):
    existing = ContactFactory(phone="+12025550101", email="")
    contact_list = ContactListFactory()
    manager_client.post(add_url(contact_list), NEW_CONTACT)
    assert Contact.objects.get() == existing
    assert list(contact_list.contacts.all()) == [existing]


def test_it_fills_the_blanks_of_the_known_contact_and_overwrites_nothing(manager_client):
    existing = ContactFactory(name="Ann Lee", phone="+12025550101", email="")
    manager_client.post(add_url(ContactListFactory()), NEW_CONTACT)
    existing.refresh_from_db()
    assert (existing.name, existing.email) == ("Ann Lee", "ann@example.com")


def test_it_matches_an_email_whatever_its_case(manager_client):
    existing = ContactFactory(phone="", email="ann@example.com")
    contact_list = ContactListFactory()
    manager_client.post(add_url(contact_list), {**NEW_CONTACT, "phone": ""})
    assert list(contact_list.contacts.all()) == [existing]


def test_it_takes_the_contact_already_in_the_list_over_an_older_one(manager_client):
    ContactFactory(phone="+12025550101", email="")  # older, in no list
    membership = MembershipFactory(contact=ContactFactory(phone="+12025550101", email=""))
    response = manager_client.post(add_url(membership.contact_list), NEW_CONTACT, follow=True)
    assert "already in this list" in response.content.decode()
    membership.contact_list.refresh_from_db()
    assert membership.contact_list.size == 1


def test_it_is_a_no_op_for_a_member(manager_client):
    membership = MembershipFactory(contact=ContactFactory(phone="+12025550101"))
    response = manager_client.post(add_url(membership.contact_list), NEW_CONTACT, follow=True)
    assert "already in this list" in response.content.decode()
    membership.contact_list.refresh_from_db()
    assert membership.contact_list.size == 1


def test_it_refuses_a_bad_phone(manager_client):
    contact_list = ContactListFactory()
    data = {**NEW_CONTACT, "phone": "12"}
    response = manager_client.post(add_url(contact_list), data)
    assert response.status_code == 400
    assert "not a valid phone number" in response.content.decode()
    assert not Contact.objects.exists()


def test_it_refuses_an_unknown_time_zone_in_words(manager_client):
    contact_list = ContactListFactory()
    response = manager_client.post(add_url(contact_list), {**NEW_CONTACT, "timezone": "Mars/Base"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "“Mars/Base” is not a time zone; use a name such as America/New_York." in html
    assert not Contact.objects.exists()


def test_it_is_refused_to_a_viewer(viewer_client):
    contact_list = ContactListFactory()
    response = viewer_client.post(add_url(contact_list), NEW_CONTACT)
    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_it_needs_post(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.get(add_url(contact_list)).status_code == 405


def test_it_is_404_for_a_missing_list(manager_client):
    response = manager_client.post(reverse("contacts:list_add_contact", args=[999]), NEW_CONTACT)
    assert response.status_code == 404
    assert not Contact.objects.exists()
