"""Adding contacts to a list, whoever they turn out to be: `ContactList.add_or_merge`.

Contact identity (SPEC section 1): an incoming contact — the contact form's unsaved Contact, a
CSV row's Candidate — is the stored contact with the same E.164 phone, else the one with the
same email (emails are stored lower-cased, so this match ignores case); among several, the one
already in the list, then the oldest. Two incoming contacts with a common address are one
contact too. A match only gains what it lacks (a blank name or address, a time zone where it
has none, new attributes, opt-outs): nothing it holds is overwritten, no opt-out undone. A
match (stored, or incoming earlier in the same call) whose name or other address differs
from the incoming contact's is reported in `Added.matched` with both names; only
`update_existing=True` replaces its stored fields with the incoming ones (opt-outs are
still only ever added).

The new contacts are inserted, the newcomers join the list and the list's stored size
follows, all in one transaction under the list's row lock, with a fixed number of queries
whatever the number of contacts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from campaigns.models import Contact, ContactList, Membership

from .zones import zone_key_for

if TYPE_CHECKING:
    from .importing.rows import Candidate

    Incoming = Contact | Candidate

# What a contact is stored with, and what a merge may fill in; Candidate has the same names.
CONTACT_COLUMNS = (
    "name",
    "phone",
    "email",
    "timezone",
    "attributes",
    *Contact.OPT_OUT_FIELDS.values(),
    "zone_key",
)


@dataclass(frozen=True)
class Match:
    """An incoming contact that is a stored contact with another name or address."""

    index: int  # in the incoming sequence
    incoming_name: str
    stored_name: str
    joined: bool  # whether the stored contact entered the list with it
    updated: bool  # whether the stored contact took the incoming one's fields


@dataclass
class Added:
    """What `add_or_merge` did: `joined` contacts entered the list (new ones, or known ones
    from outside it); `merged` ones were in it already, or earlier in the same call; the
    `matched` ones (counted in either) are stored contacts that differ from what came in."""

    joined: int = 0
    merged: int = 0
    matched: list[Match] = field(default_factory=list)
    # The contact each incoming one turned out to be, in order.
    contacts: list[Incoming] = field(default_factory=list)


class _Known:
    """The contacts an incoming one may be, by address: stored ones, then those seen so far."""

    def __init__(self, list_id: int, incoming: Sequence[Incoming]) -> None:
        phones = {c.phone for c in incoming if c.phone}
        emails = {c.email.lower() for c in incoming if c.email}
        found: dict[int, Contact] = {}
        for column, values in (("phone", phones), ("email", emails)):
            found.update((c.pk, c) for c in _stored_with(column, values))
        self.in_list = set(
            Membership.objects.filter(contact_list_id=list_id, contact_id__in=found).values_list(
                "contact_id", flat=True
            )
        )
        self.by_phone: dict[str, Incoming] = {}
        self.by_email: dict[str, Incoming] = {}
        # Several contacts may share an address; prefer the one already in this list, then
        # the oldest.
        for contact in sorted(found.values(), key=lambda c: (c.pk not in self.in_list, c.pk)):
            self.remember(contact)

    def match(self, contact: Incoming) -> Incoming | None:
        return (contact.phone and self.by_phone.get(contact.phone)) or (
            contact.email and self.by_email.get(contact.email.lower())
        )

    def remember(self, contact: Incoming) -> None:
        if contact.phone:
            self.by_phone.setdefault(contact.phone, contact)
        if contact.email:
            self.by_email.setdefault(contact.email.lower(), contact)


def _stored_with(column: str, values: set[str]) -> models.QuerySet | list:
    """The stored contacts whose `column` (phone or email, each indexed) is one of `values`.

    The values go as one parameter (an array, a JSON list), not one placeholder each: with
    `__in` and 2,000 of them, building, parsing and planning the statement cost more on
    PostgreSQL than the index look-ups themselves (profiled: 3.4 s of the 10 s a 100,000-row
    import spent writing).
    """
    if not values:
        return []
    # The column's name comes from this module (phone or email), never from the input.
    quoted = connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        where, param = f"{quoted} = ANY(%s::text[])", list(values)
    else:  # SQLite
        where = f"{quoted} IN (SELECT value FROM json_each(%s))"  # noqa: S608
        param = json.dumps(list(values))
    matches = RawSQL(where, [param], output_field=models.BooleanField())  # noqa: S611
    return Contact.objects.filter(matches)


def _room_for(new_attributes: dict, stored: dict) -> dict:
    """The first of `new_attributes` a contact holding `stored` has room for: a contact keeps
    at most HERALD_MAX_ATTRIBUTES (an import says which columns it left out for it)."""
    room = max(0, settings.HERALD_MAX_ATTRIBUTES - len(stored))
    return dict(list(new_attributes.items())[:room])


def merge_into(contact: Incoming, incoming: Incoming) -> bool:
    """Fill the contact's blanks from the incoming one, add its new attributes and its
    opt-outs; never overwrite what the contact has, never undo an opt-out. True if changed."""
    changed = False
    for name in ("name", "phone", "email"):
        value = getattr(incoming, name)
        if value and not getattr(contact, name):
            setattr(contact, name, value)
            changed = True
    if incoming.timezone and not contact.timezone:
        contact.timezone = incoming.timezone
        changed = True
    new_attributes = _room_for(
        {k: v for k, v in incoming.attributes.items() if k not in contact.attributes},
        contact.attributes,
    )
    if new_attributes:
        contact.attributes = {**contact.attributes, **new_attributes}
        changed = True
    for name in Contact.OPT_OUT_FIELDS.values():
        if getattr(incoming, name) and not getattr(contact, name):
            setattr(contact, name, True)
            changed = True
    if changed and isinstance(contact, Contact):
        # A Candidate derives its key; a stored contact keeps it in a column.
        contact.zone_key = zone_key_for(timezone=contact.timezone, phone=contact.phone)
    return changed


def differs(contact: Contact, incoming: Incoming) -> bool:
    """Whether the stored contact's name or an address it has says otherwise than the incoming."""
    return any(
        getattr(incoming, name)
        and getattr(contact, name)
        and getattr(incoming, name).lower() != getattr(contact, name).lower()
        for name in ("name", "phone", "email")
    )


def replace_with(contact: Contact, incoming: Incoming) -> None:
    """The explicit update: the incoming contact's fields replace the stored ones it has."""
    for name in ("name", "phone", "email"):
        if getattr(incoming, name):
            setattr(contact, name, getattr(incoming, name))
    if incoming.timezone:
        contact.timezone = incoming.timezone
    stored = contact.attributes
    known = {k: v for k, v in incoming.attributes.items() if k in stored}
    new = _room_for({k: v for k, v in incoming.attributes.items() if k not in stored}, stored)
    contact.attributes = {**stored, **known, **new}
    if isinstance(contact, Contact):
        contact.zone_key = zone_key_for(timezone=contact.timezone, phone=contact.phone)


def add_or_merge(
    contact_list: ContactList, incoming: Sequence[Incoming], *, update_existing: bool = False
) -> Added:
    """See the module docstring. Inside a caller's transaction it adds no savepoint, so the
    caller can commit its own bookkeeping with the contacts (the importer's progress)."""
    result = Added()
    with transaction.atomic(savepoint=False):
        # The row lock orders this against a channel start, which reads `size` and the
        # highest membership id as one snapshot, and against another import into the list.
        ContactList.objects.select_for_update().filter(pk=contact_list.pk).values_list("pk").get()
        known = _Known(contact_list.pk, incoming)
        created: list[Incoming] = []
        joined: list[Contact] = []
        changed: dict[int, Contact] = {}
        for index, contact in enumerate(incoming):
            target = known.match(contact)
            # Stored before this call (an incoming one gets its pk after the loop).
            stored = bool(target) and target.pk is not None
            matched = bool(target)
            entered = False
            if not target:
                target = contact
                created.append(contact)
            elif not stored or target.pk in known.in_list:
                result.merged += 1
            else:
                joined.append(target)
                known.in_list.add(target.pk)
                entered = True
            # An earlier incoming contact counts too, so that what is reported does not
            # depend on how a caller splits its contacts into calls.
            if matched and differs(target, contact):
                match = Match(index, contact.name, target.name, entered, update_existing)
                result.matched.append(match)
                if update_existing:
                    replace_with(target, contact)
                    if stored:
                        changed[target.pk] = target
            if target is not contact and merge_into(target, contact) and target.pk is not None:
                changed[target.pk] = target
            known.remember(target)
            result.contacts.append(target)

        _insert_contacts(created)
        if changed:
            Contact.objects.bulk_update(changed.values(), CONTACT_COLUMNS)
        new_members = [c.pk for c in created] + [c.pk for c in joined]
        _insert_memberships(contact_list.pk, new_members)
        if new_members:
            ContactList.objects.filter(pk=contact_list.pk).update(
                size=models.F("size") + len(new_members)
            )
        result.joined = len(new_members)
    return result


def _insert_contacts(contacts: list[Incoming]) -> None:
    """Insert the new contacts and set their `pk`.

    Plain SQL rather than bulk_create: the ORM spends about 100 µs a row preparing model
    instances and values, twice what the importer's phone and email checks cost, and SPEC
    section 8 wants the import at 60% of the checks' rate.
    """
    if not contacts:
        return
    now = timezone.now()
    rows = [
        (c.name, c.phone, c.email, c.timezone, json.dumps(c.attributes))
        + tuple(getattr(c, name) for name in Contact.OPT_OUT_FIELDS.values())
        + (c.zone_key,)
        for c in contacts
    ]
    if connection.vendor == "postgresql":
        ids = _copy_contacts(rows, now)
    else:
        ids = _insert_contact_rows(rows, now)
    for contact, pk in zip(contacts, ids, strict=True):
        contact.pk = pk


def _copy_contacts(rows: list[tuple], now) -> list[int]:
    """PostgreSQL: the rows' ids taken from the table's sequence, then the rows COPYed in
    with them. Measured against one INSERT … SELECT FROM unnest(arrays) … RETURNING id of
    2,000 rows: 0.94–1.01 s against 1.20–1.48 s for 40,000 contacts."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(c) for c in ("id", *CONTACT_COLUMNS, "created_at")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Contact._meta.db_table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        # The psycopg cursor under Django's wrapper: COPY has no Django API.
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row, now))
    return ids


def _insert_contact_rows(rows: list[tuple], now) -> list[int]:
    """SQLite: multi-row INSERTs … RETURNING id, as many rows a statement as its parameter
    limit allows. Ids are taken in insertion order, so the sorted ids match the rows."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in (*CONTACT_COLUMNS, "created_at"))
    created_at = connection.ops.adapt_datetimefield_value(now)
    width = len(CONTACT_COLUMNS) + 1
    per_statement = max(1, connection.features.max_query_params // width)
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 (names from the model)
                f"VALUES {', '.join([placeholders] * len(part))} RETURNING id",
                [value for row in part for value in (*row, created_at)],
            )
            ids += [row[0] for row in cursor.fetchall()]
    return sorted(ids)


def _insert_memberships(list_id: int, contact_ids: list[int]) -> None:
    if not contact_ids:
        return
    now = timezone.now()
    table = connection.ops.quote_name(Membership._meta.db_table)
    sql = f"INSERT INTO {table} (contact_list_id, contact_id, created_at) "  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                sql + "SELECT %s, c, %s FROM unnest(%s::bigint[]) AS r(c)",  # noqa: S608
                [list_id, now, contact_ids],
            )
        else:  # SQLite
            cursor.execute(
                sql + "SELECT %s, value, %s FROM json_each(%s)",  # noqa: S608
                [list_id, connection.ops.adapt_datetimefield_value(now), json.dumps(contact_ids)],
            )
