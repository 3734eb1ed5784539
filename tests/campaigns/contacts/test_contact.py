"""A contact's validation, and the one pairing of channel kinds and opt-out fields."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import BooleanField

from campaigns.models import Contact
from channels.models import Channel

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


def test_it_lower_cases_an_email():
    contact = Contact(name="Ana Lima", email=" Ana.Lima@Example.COM")

    contact.full_clean()

    assert contact.email == "ana.lima@example.com"


def test_it_requires_a_phone_or_an_email():
    assert refusal() == {"phone": ["A contact needs a phone number or an email address."]}


@pytest.mark.parametrize("fields", [{"phone": "+12025550143"}, {"email": "ana@example.com"}])
def test_it_accepts_either_address_alone(fields):
    Contact(name="Ana Lima", **fields).full_clean()


def test_it_reports_both_bad_addresses_at_once():
    errors = refusal(phone="12345", email="nope")

    assert set(errors) == {"phone", "email"}


def test_it_has_one_opt_out_field_per_channel_kind():
    fields = {Contact.opt_out_field(kind) for kind in Channel.Kind}

    assert fields == {"opted_out_voice", "opted_out_sms", "opted_out_email"}
    assert all(isinstance(Contact._meta.get_field(f), BooleanField) for f in fields)
