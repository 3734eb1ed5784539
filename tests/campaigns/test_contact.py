"""Contact validation and a contact list's stored size."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Contact, Membership
from tests.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def refusal(**fields) -> dict[str, list[str]]:
    contact = Contact(name="Ana Lima", **fields)
    with pytest.raises(ValidationError) as exc:
        contact.full_clean()
    return exc.value.message_dict


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(202) 555-0143", "+12025550143"),
        ("202.555.0143", "+12025550143"),
        ("+1 202 555 0143", "+12025550143"),
        ("  +1  (202)  555 - 0143  ", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_it_stores_phones_in_e164(typed, stored):
    contact = Contact(name="Ana Lima", phone=typed)

    contact.full_clean()

    assert contact.phone == stored


def test_it_reads_national_numbers_in_the_default_region(settings):
    settings.HERALD_DEFAULT_REGION = "GB"
    contact = Contact(name="Ana Lima", phone="020 7946 0958")

    contact.full_clean()

    assert contact.phone == "+442079460958"


def test_it_refuses_a_number_that_does_not_exist():
    assert refusal(phone="12345") == {"phone": ["“12345” is not a valid phone number."]}


def test_it_refuses_text_that_is_not_a_phone_number():
    assert refusal(phone="call me") == {"phone": ["“call me” is not a phone number."]}


def test_it_refuses_a_bad_email_with_one_clear_message():
    assert refusal(email="ana.example.com") == {
        "email": ["“ana.example.com” is not a valid email address."]
    }


def test_it_refuses_an_email_too_long_to_store():
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"

    assert list(refusal(email=address)) == ["email"]


def test_it_trims_an_email_before_judging_it():
    contact = Contact(name="Ana Lima", email="  ana@example.com ")

    contact.full_clean()

    assert contact.email == "ana@example.com"


def test_it_requires_a_phone_or_an_email():
    assert refusal() == {"phone": ["A contact needs a phone number or an email address."]}


@pytest.mark.parametrize("fields", [{"phone": "+12025550143"}, {"email": "ana@example.com"}])
def test_it_accepts_either_address_alone(fields):
    Contact(name="Ana Lima", **fields).full_clean()


def test_it_reports_both_bad_addresses_at_once():
    errors = refusal(phone="12345", email="nope")

    assert set(errors) == {"phone", "email"}


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
