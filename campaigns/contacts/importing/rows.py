"""One data row of a CSV file: a contact to add, or the reasons the row is rejected.

Each column the importer recognises has a parser in `PARSERS`, which turns the cell's text
into the value of a contact's field or raises `Rejected` with the reason the error report
gives for that column. `parse_row` adds the two rules that span columns: the name (a name
column, or first and last names) and that a row needs a phone number or an email address.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from campaigns.contacts.models import normalize_phone_with_zones
from campaigns.contacts.zones import not_a_zone_message, zone_key_for
from campaigns.models import Contact
from channels.models import Channel

from .layout import Layout

# A row without a time zone stores none (SPEC 4b): its phone or the default zone decides.
DEFAULT_TIMEZONE = ""
MAX_NAME_LENGTH = Contact._meta.get_field("name").max_length
MAX_EMAIL_LENGTH = Contact._meta.get_field("email").max_length

# The words for each kind in an `opted_out` cell; the first is the one the export writes.
OPT_OUT_WORDS = {
    Channel.Kind.AI_VOICE: ("voice", "call", "calls", "ai_voice", "phone"),
    Channel.Kind.SMS: ("sms", "text", "texts"),
    Channel.Kind.EMAIL: ("email", "mail", "e_mail"),
}
KIND_OF_WORD = {word: kind for kind, words in OPT_OUT_WORDS.items() for word in words}
TRUE_WORDS = {"1", "y", "yes", "true", "x", "all", "opted_out", "opted out"}
FALSE_WORDS = {"", "0", "n", "no", "false", "none", "-"}

_email_validator = EmailValidator()
_timezones: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass(slots=True)
class Candidate:
    """One valid row, ready to become a contact or to merge into one. Its attributes carry
    Contact's names so that `ContactList.add_or_merge` takes a row and a contact alike."""

    name: str
    phone: str
    email: str
    timezone: str
    attributes: dict
    opted_out_voice: bool = False
    opted_out_sms: bool = False
    opted_out_email: bool = False
    pk: int | None = None
    # (a phone, the zone key it gives): found by the row's phone check, which costs as much
    # as working the key out again; a merge that gives the candidate another phone does not
    # use it.
    phone_zone_key: tuple[str, str] = ("", "")

    @property
    def zone_key(self) -> str:
        phone, key = self.phone_zone_key
        if not self.timezone and self.phone and self.phone == phone:
            return key
        return zone_key_for(timezone=self.timezone, phone=self.phone)


class Rejected(ValueError):
    """A cell that cannot be imported; `str()` is the reason the report gives."""


def is_valid_email(email: str) -> bool:
    try:
        _email_validator(email)
    except ValidationError:
        return False
    return len(email) <= MAX_EMAIL_LENGTH


def known_timezone(name: str) -> str | None:
    if not _timezones:
        _timezones.update({tz.lower(): tz for tz in zoneinfo.available_timezones()})
    return _timezones.get(name.strip().lower())


def opt_out_words(contact: Contact) -> str:
    """“sms, email”: the kinds a contact opted out of, as the export writes them."""
    return ", ".join(
        spellings[0]
        for kind, spellings in OPT_OUT_WORDS.items()
        if getattr(contact, Contact.opt_out_field(kind))
    )


# -- one parser per column: (the cell's text, the default region) -> the field's value ----


def _text(raw: str, region: str) -> str:
    return raw


def _phone(raw: str, region: str) -> tuple[str, str]:
    """The phone as E.164, and its zone key (`Candidate.phone_zone_key`)."""
    if not raw:
        return "", ""
    try:
        return normalize_phone_with_zones(raw, region=region)
    except ValidationError as exc:
        raise Rejected(exc.messages[0]) from exc


def _email(raw: str, region: str) -> str:
    email = raw.lower()
    if email and not is_valid_email(email):
        raise Rejected(f"“{email}” is not a valid email address.")
    return email


def _timezone(raw: str, region: str) -> str:
    if not raw:
        return DEFAULT_TIMEZONE
    tz = known_timezone(raw)
    if not tz:
        raise Rejected(not_a_zone_message(raw))
    return tz


def _opted_out(raw: str, region: str) -> frozenset[str]:
    """“yes” → every kind; “sms, email” → those kinds; blank or “no” → none."""
    lowered = raw.lower()
    if lowered in FALSE_WORDS:
        return frozenset()
    if lowered in TRUE_WORDS:
        return frozenset(OPT_OUT_WORDS)
    words = [word for word in re.split(r"[\s,;|/+]+", lowered) if word]
    if not all(word in KIND_OF_WORD for word in words):
        kinds = ", ".join(spellings[0] for spellings in OPT_OUT_WORDS.values())
        raise Rejected(f"“{raw}” is not an opt-out; use yes, no, or the kinds: {kinds}.")
    return frozenset(KIND_OF_WORD[word] for word in words)


def _flag(raw: str, region: str) -> bool:
    lowered = raw.lower()
    if lowered in FALSE_WORDS:
        return False
    if lowered in TRUE_WORDS:
        return True
    raise Rejected(f"“{raw}” is neither yes nor no.")


PARSERS: dict[str, Callable[[str, str], object]] = {
    "name": _text,
    "first_name": _text,
    "last_name": _text,
    "phone": _phone,
    "email": _email,
    "timezone": _timezone,
    "opted_out": _opted_out,
    **dict.fromkeys(Contact.OPT_OUT_FIELDS.values(), _flag),
}
# The order of a row's reasons in the report; "address" is the row-wide "no phone or email".
REPORT_ORDER = (
    "name",
    "phone",
    "email",
    "address",
    "timezone",
    "opted_out",
    *Contact.OPT_OUT_FIELDS.values(),
)


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    value = cells[index].strip()
    # Undo the export's spreadsheet neutralisation ('=SUM…, '+1202…) so a list round-trips.
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]
    return value


def parse_row(
    cells: list[str], *, row: int, layout: Layout, region: str
) -> tuple[Candidate | None, list[RowError]]:
    """Validate one data row: a candidate contact, or the reasons it is rejected."""
    fields = layout.fields
    values: dict[str, object] = {}
    reasons: dict[str, tuple[str, str]] = {}
    for field, index in fields.items():
        try:
            values[field] = PARSERS[field](_cell(cells, index), region)
        except Rejected as exc:
            reasons[field] = (layout.header[index], str(exc))

    name = values.get("name") or " ".join(
        part for part in (values.get("first_name"), values.get("last_name")) if part
    )
    if len(name) > MAX_NAME_LENGTH:
        column = next(layout.column(f) for f in ("name", "first_name", "last_name") if f in fields)
        reasons["name"] = (column, f"The name is longer than {MAX_NAME_LENGTH} characters.")
    # A phone number that is not valid still counts as one here: its own reason says why.
    if not _cell(cells, fields.get("phone")) and not _cell(cells, fields.get("email")):
        reasons["address"] = (
            layout.address_columns,
            "The row has no phone number or email address.",
        )
    if reasons:
        return None, [RowError(row, *reasons[place]) for place in REPORT_ORDER if place in reasons]

    kinds = values.get("opted_out", frozenset())
    opted_out = {
        field: True
        for kind, field in Contact.OPT_OUT_FIELDS.items()
        if kind in kinds or values.get(field)
    }
    attributes = {}
    for index, key in layout.attributes:
        value = _cell(cells, index)
        if value:
            attributes[key] = value
    phone_zone_key = values.get("phone", ("", ""))
    return Candidate(
        name,
        phone_zone_key[0],
        values.get("email", ""),
        values.get("timezone", DEFAULT_TIMEZONE),
        attributes,
        **opted_out,
        phone_zone_key=phone_zone_key,
    ), []
