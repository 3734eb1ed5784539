"""A contact's zone key: the time zones its sending window is read in (SPEC section 4b).

The key is stored on the contact (`Contact.zone_key`) so that the engine can pick the
contacts of the zones whose window is open with an SQL `IN`, never by reading each contact:

- the contact's own `timezone` when one was given;
- else the zones its phone number may be in (phonenumbers' time-zone data), sorted and
  joined with `|`: a contact whose number spans several zones is inside its window only
  when it is inside it in every one of them;
- else "" — the default zone, `HERALD_DEFAULT_TIMEZONE`, read when the window is checked, so
  changing the setting moves those contacts at once.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumbers import timezone as phone_zones

SEPARATOR = "|"


@cache
def iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    return name in iana_zones()


def not_a_zone_message(name: str) -> str:
    """What every form, import and admin says of a name the IANA database does not know."""
    return f"“{name}” is not a time zone; use a name such as America/New_York."


def validate_time_zone(name: str) -> None:
    if name and not is_time_zone(name):
        raise ValidationError(not_a_zone_message(name))


def zones_for_number(number: phonenumbers.PhoneNumber, kind: int) -> tuple[str, ...]:
    """The IANA zones a parsed number of type `kind` (`phonenumbers.number_type`) may be in.

    `time_zones_for_number` would work out the type again, which costs as much as the
    validation that already found it (the importer derives each row's key from its check).
    """
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return ()
    if phonenumbers.is_number_type_geographical(kind, number.country_code):
        zones = phone_zones.time_zones_for_geographical_number(number)
    else:
        zones = phone_zones.time_zones_for_number(number)
    return tuple(sorted(z for z in zones if is_time_zone(z)))


def zones_for_phone(phone: str) -> tuple[str, ...]:
    """The IANA zones an E.164 number may be in (none when phonenumbers does not know)."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ()
    return zones_for_number(number, phonenumbers.number_type(number))


def phone_key(zones: tuple[str, ...]) -> str:
    """The zone key of a contact with no time zone of its own and a phone in `zones`."""
    return SEPARATOR.join(zones)


def zone_key_for(*, timezone: str, phone: str) -> str:
    if timezone:
        return timezone
    if phone:
        return phone_key(zones_for_phone(phone))
    return ""


def zones_of(key: str, *, default: str) -> list[str]:
    return key.split(SEPARATOR) if key else [default]
