"""The content tools of a channel's form (SPEC section 5).

The placeholders the campaign's list actually has (and how many of its contacts lack each),
warnings for a placeholder no contact has, and a preview of the content as it stands in the
form, rendered for a chosen contact by `content_for`, the renderer every send goes through.
The test send (channels/send_test.py) picks its contact with the same picker.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django import forms
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q

from campaigns.models import Contact, ContactList, Membership

from .content import content_for_contact
from .models import Channel
from .placeholders import CONTACT_FIELDS, parse
from .sms_length import SmsLength, sms_length

#: How many of the list's contacts the picker offers to pick from; any other by id or email.
CHOICES = 50
#: Lists larger than this are read through their first SAMPLE contacts (membership order):
#: measured on this project's 2-core machine, the two aggregates take 1.4 s over 100,000
#: contacts (SQLite and PostgreSQL alike), 0.35 s over 20,000, 0.1 s over the first 10,000
#: of 100,000; the table says when it was sampled. It is then kept for a minute
#: (CACHE_SECONDS), since the preview reads it again every time the content changes.
SAMPLE = 10_000
CACHE_SECONDS = 60


class ContactPickerForm(forms.Form):
    """Which contact of the campaign's list to render the content for."""

    contact = forms.TypedChoiceField(
        label="Render for", required=False, coerce=int, empty_value=None
    )
    lookup = forms.CharField(
        label="…or the contact with id or email", required=False, max_length=254
    )

    def __init__(self, *args, contact_list: ContactList, **kwargs):
        kwargs.setdefault("prefix", "test")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.contact_list = contact_list
        self.contacts = Contact.objects.filter(memberships__contact_list=contact_list)
        first = self.contacts.order_by("memberships__id")[:CHOICES]
        self.fields["contact"].choices = [("", "The list's first contact")] + [
            (contact.pk, str(contact)) for contact in first
        ]
        for name in ("contact", "lookup"):
            # The preview follows the picker (templates/channels/_content_tools.html).
            self.fields[name].widget.attrs["data-preview"] = ""

    def clean(self) -> dict:
        data = super().clean()
        data["contact"] = self.find_contact(data.get("lookup", ""), data.get("contact"))
        return data

    def chosen_contact(self) -> Contact | None:
        """The contact picked; before any pick, the list's first."""
        if not self.is_bound:
            return self.contacts.order_by("memberships__id").first()
        self.is_valid()
        return self.cleaned_data.get("contact")

    def find_contact(self, lookup: str, pk: int | None) -> Contact | None:
        lookup = lookup.strip()
        if lookup:
            match = Q(email__iexact=lookup)
            if lookup.isdigit():
                match |= Q(pk=int(lookup))
            found = self.contacts.filter(match)
        elif pk:
            found = self.contacts.filter(pk=pk)
        else:
            found = self.contacts.order_by("memberships__id")
        contact = found.first()
        if contact is None and (lookup or pk):
            self.add_error("lookup", "No contact of the campaign's list matches.")
        return contact


# -- the placeholders a list has ----------------------------------------------------------


@dataclass(frozen=True)
class ListField:
    name: str
    having: int  # contacts read with a non-empty value


@dataclass
class ListPlaceholders:
    """The placeholders the list's contacts have; read over `read` of its `size` contacts."""

    read: int
    size: int
    fields: list[ListField] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return self.read < self.size

    def having(self, name: str) -> int:
        return next((f.having for f in self.fields if f.name == name), 0)

    def rows(self) -> list[tuple[str, int, int]]:
        """(name, having, lacking) for the table of the form."""
        return [(f.name, f.having, self.read - f.having) for f in self.fields]


def list_placeholders(contact_list: ContactList) -> ListPlaceholders:
    """What `read_list_placeholders` finds, kept a minute per list and size."""
    key = f"list-placeholders:{contact_list.pk}:{contact_list.size}"
    return cache.get_or_set(key, lambda: read_list_placeholders(contact_list), CACHE_SECONDS)


def read_list_placeholders(contact_list: ContactList) -> ListPlaceholders:
    """Two aggregate queries: the contact fields, then the attribute keys (json_each on
    SQLite, jsonb_each_text on PostgreSQL), over at most the list's first SAMPLE contacts."""
    memberships = Membership.objects.filter(contact_list=contact_list)
    cutoff = None
    if contact_list.size > SAMPLE:
        # The SAMPLE-th membership, through membership_list_id_idx.
        ids = memberships.order_by("id").values_list("id", flat=True)
        cutoff = ids[SAMPLE - 1 : SAMPLE].first()
        memberships = memberships.filter(id__lte=cutoff)
    contacts = Contact.objects.filter(memberships__in=memberships)
    having = {
        "first_name": ~Q(name=""),
        "last_name": Q(name__contains=" ") & ~Q(name__endswith=" "),
        "name": ~Q(name=""),
        "email": ~Q(email=""),
        "phone": ~Q(phone=""),
        "timezone": ~Q(timezone=""),
    }
    counts = contacts.aggregate(
        read=Count("pk"), **{f"with_{name}": Count("pk", filter=q) for name, q in having.items()}
    )
    fields = [ListField(name, counts[f"with_{name}"]) for name in CONTACT_FIELDS]
    for key, having in attribute_counts(contact_list.pk, cutoff):
        if key not in CONTACT_FIELDS:  # a contact field wins over an attribute of its name
            fields.append(ListField(key, having))
    return ListPlaceholders(read=counts["read"], size=contact_list.size, fields=fields)


def attribute_counts(list_id: int, cutoff: int | None) -> list[tuple[str, int]]:
    """(attribute key, contacts with a non-empty value for it), most common first."""
    if connection.vendor == "postgresql":
        each = (
            "CROSS JOIN LATERAL jsonb_each_text(CASE WHEN jsonb_typeof(c.attributes) = "
            "'object' THEN c.attributes ELSE '{}'::jsonb END) AS e"
        )
    else:
        each = (
            "JOIN json_each(CASE WHEN json_type(c.attributes) = 'object' "
            "THEN c.attributes ELSE '{}' END) AS e"
        )
    sample = "AND m.id <= %s " if cutoff is not None else ""
    # Only table names and the constants above are interpolated; the values are parameters.
    sql = (
        f"SELECT e.key, COUNT(*) AS n FROM {Membership._meta.db_table} m "  # noqa: S608
        f"JOIN {Contact._meta.db_table} c ON c.id = m.contact_id {each} "
        f"WHERE m.contact_list_id = %s {sample}"
        "AND e.value IS NOT NULL AND CAST(e.value AS TEXT) <> '' "
        "GROUP BY e.key ORDER BY n DESC, e.key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list_id, cutoff] if cutoff is not None else [list_id])
        return [(key, having) for key, having in cursor.fetchall()]


# -- warnings and the preview ---------------------------------------------------------------


def placeholder_notes(texts: list[str], known: ListPlaceholders) -> tuple[list[str], list[str]]:
    """(warnings, notes) about the placeholders of `texts` against what the list has:
    a placeholder no contact has is a warning; one some contacts lack, without a default,
    a note. An empty list has nothing to check against (the preview says it is empty)."""
    warnings: list[str] = []
    notes: list[str] = []
    if not known.read:
        return warnings, notes
    names = [f.name for f in known.fields]
    nobody = (
        f"None of the first {known.read:,} contacts" if known.sampled else "No contact of the list"
    )
    fallbacks: dict[str, list[str | None]] = {}
    for placeholder in (p for text in texts for p in parse(text)):
        fallbacks.setdefault(placeholder.name, []).append(placeholder.fallback)
    for name, defaults in fallbacks.items():
        having = known.having(name)
        # Written once without a default, some messages get nothing where it stands.
        default = None if None in defaults else defaults[0]
        if not having:
            gets = f"gets “{default}”" if default else "is left empty"
            guess = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean {{{guess[0]}}}?" if guess else ""
            warnings.append(f"{nobody} has {{{name}}}: it {gets} for everyone.{hint}")
        elif having < known.read and default is None:
            lacking = known.read - having
            notes.append(
                f"{lacking:,} of {known.read:,} contacts have no {{{name}}}; it is left empty "
                f"for them. Give a default: {{{name}|…}}."
            )
    return warnings, notes


@dataclass
class Preview:
    kind: str
    contact: Contact
    content: dict[str, str]
    sms: SmsLength | None
    warnings: list[str]
    notes: list[str]


def preview_for(*, channel: Channel, contact: Contact, known: ListPlaceholders) -> Preview:
    """`channel`'s content rendered for `contact`, with what to check before sending it."""
    content = content_for_contact(channel, contact)
    texts = [getattr(channel, name) for name in Channel.REQUIRED_CONTENT[channel.kind]]
    warnings, notes = placeholder_notes(texts, known)
    sms = sms_length(content["text"]) if channel.kind == Channel.Kind.SMS else None
    if sms and sms.warning:
        warnings.append(sms.warning)
    return Preview(channel.kind, contact, content, sms, warnings, notes)


def tools_context(*, form, picker: ContactPickerForm) -> dict:
    """What templates/channels/_content_tools.html shows for a channel form (`ChannelForm`,
    bound or not) and the contact picked."""
    known = list_placeholders(picker.contact_list)
    contact = picker.chosen_contact()
    channel = form.content_as_typed()
    return {
        "placeholders": known,
        "preview": preview_for(channel=channel, contact=contact, known=known) if contact else None,
        "content_errors": form.content_errors(),
    }
