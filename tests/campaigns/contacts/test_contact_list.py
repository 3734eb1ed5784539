"""A contact list's stored size, and `add_or_merge`: who an incoming contact is."""

import pytest

from campaigns.contacts.importing.rows import Candidate
from campaigns.models import Contact, Membership
from tests.factories import ContactFactory, ContactListFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def assert_size_matches(contact_list) -> None:
    contact_list.refresh_from_db()
    assert contact_list.size == Membership.objects.filter(contact_list=contact_list).count()


def test_it_counts_the_contacts_it_adds():
    contact_list = ContactListFactory()
    contacts = ContactFactory.create_batch(3)

    joined = contact_list.add_contacts([c.pk for c in contacts])

    assert joined == 3
    assert contact_list.size == 3
    assert_size_matches(contact_list)


def test_it_ignores_duplicates_when_adding():
    contact_list = ContactListFactory()
    first, second = ContactFactory.create_batch(2)
    contact_list.add_contacts([first.pk])

    joined = contact_list.add_contacts([first.pk, second.pk, second.pk])

    assert joined == 1
    assert contact_list.size == 2
    assert_size_matches(contact_list)


def test_it_counts_the_contacts_it_removes():
    contact_list = ContactListFactory(size=4)
    leaving = list(contact_list.contacts.values_list("pk", flat=True)[:2])

    removed = contact_list.remove_contacts(leaving)

    assert removed == 2
    assert contact_list.size == 2
    assert_size_matches(contact_list)


def test_it_ignores_non_members_and_duplicates_when_removing():
    contact_list = ContactListFactory(size=2)
    member = contact_list.contacts.first()
    stranger = ContactFactory()

    removed = contact_list.remove_contacts([member.pk, member.pk, stranger.pk])

    assert removed == 1
    assert contact_list.size == 1
    assert_size_matches(contact_list)


def test_it_keeps_the_contacts_it_removes_from_the_list():
    contact_list = ContactListFactory(size=2)

    contact_list.remove_contacts(list(contact_list.contacts.values_list("pk", flat=True)))

    assert contact_list.size == 0
    assert Contact.objects.count() == 2
    assert_size_matches(contact_list)


def test_it_keeps_each_lists_size_apart():
    shared = ContactFactory()
    one, other = ContactListFactory(size=1), ContactListFactory()
    one.add_contacts([shared.pk])
    other.add_contacts([shared.pk])

    one.remove_contacts([shared.pk])

    other.refresh_from_db()
    assert (one.size, other.size) == (1, 1)
    assert_size_matches(one)
    assert_size_matches(other)


# -- add_or_merge -------------------------------------------------------------------------


def row(**fields) -> Candidate:
    return Candidate(
        **{"name": "", "phone": "", "email": "", "timezone": "UTC", "attributes": {}, **fields}
    )


def test_it_adds_new_contacts():
    contact_list = ContactListFactory()

    added = contact_list.add_or_merge(
        [Contact(name="Ann", phone="+12025550101"), row(name="Bob", email="bob@example.com")]
    )

    assert (added.joined, added.merged) == (2, 0)
    assert contact_list.size == 2
    assert [c.pk for c in added.contacts] == list(
        contact_list.contacts.order_by("pk").values_list("pk", flat=True)
    )
    assert_size_matches(contact_list)


def test_it_matches_by_phone_before_email():
    by_phone = ContactFactory(phone="+12025550101", email="ann@example.com")
    ContactFactory(phone="+12025550102", email="bob@example.com")
    contact_list = ContactListFactory()

    added = contact_list.add_or_merge([row(phone="+12025550101", email="bob@example.com")])

    assert added.contacts == [by_phone]
    assert list(contact_list.contacts.all()) == [by_phone]


def test_it_matches_an_email_whatever_its_case():
    known = ContactFactory(phone="", email="ann@example.com")
    contact_list = ContactListFactory()

    added = contact_list.add_or_merge([Contact(name="Ann", email="Ann@Example.COM")])

    assert added.contacts == [known]
    assert Contact.objects.count() == 1


def test_it_prefers_the_contact_in_the_list_then_the_oldest():
    oldest = ContactFactory(phone="+12025550101", email="")
    member = MembershipFactory(contact=ContactFactory(phone="+12025550101", email="")).contact
    contact_list = member.lists.get()

    in_list = contact_list.add_or_merge([row(phone="+12025550101")])
    elsewhere = ContactListFactory().add_or_merge([row(phone="+12025550101")])

    assert (in_list.contacts, in_list.joined, in_list.merged) == ([member], 0, 1)
    assert elsewhere.contacts == [oldest]


def test_it_fills_blanks_and_never_overwrites_or_undoes_an_opt_out():
    known = ContactFactory(
        name="Ann Lee",
        phone="+12025550101",
        email="",
        timezone="",  # none given: the merge fills it
        attributes={"city": "Paris"},
        opted_out_voice=True,
    )

    ContactListFactory().add_or_merge(
        [
            row(
                name="Annie",
                phone="+12025550101",
                email="ann@example.com",
                timezone="Europe/Paris",
                attributes={"city": "Rome", "tier": "gold"},
                opted_out_sms=True,
            )
        ]
    )

    known.refresh_from_db()
    assert known.zone_key == "Europe/Paris"
    assert (known.name, known.email, known.timezone) == (
        "Ann Lee",
        "ann@example.com",
        "Europe/Paris",
    )
    assert known.attributes == {"city": "Paris", "tier": "gold"}
    assert (known.opted_out_voice, known.opted_out_sms, known.opted_out_email) == (
        True,
        True,
        False,
    )


def test_it_makes_incoming_contacts_with_a_common_address_one_contact():
    contact_list = ContactListFactory()

    added = contact_list.add_or_merge(
        [row(name="Ann", phone="+12025550101"), row(phone="+12025550101", email="a@example.com")]
    )

    assert (added.joined, added.merged) == (1, 1)
    contact = Contact.objects.get()
    assert (contact.name, contact.email) == ("Ann", "a@example.com")
    assert_size_matches(contact_list)
