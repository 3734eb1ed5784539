"""A channel's deliveries table (SPEC 5): filters, the contact search, keyset pages.

A channel's ledger can hold millions of rows, so nothing here counts them or skips
through them with OFFSET: a page is the 50 rows before (or after) a cursor id, newest
first, read through the `(channel, id)` indexes of `Delivery.Meta.indexes`, and costs the
same at page 1,000 as at page 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q, QuerySet

from campaigns.models import Contact, normalize_phone

from .models import Channel, Delivery

PAGE_SIZE = 50
# Cursors are delivery ids: positive, and within PostgreSQL's bigint (a larger number
# would make the database raise, not answer "nothing").
MAX_ID = 2**63 - 1
PHONE_CHARACTERS = "+-() .0123456789"


def matching_contacts(query: str) -> QuerySet[Contact]:
    """The ids of the contacts a search names, as a subquery of the page's query.

    - a phone number, normalised to E.164: equal to `phone`, through `contact_phone_idx`;
    - a whole email address, lower-cased as emails are stored: equal to `email`, through
      `contact_email_idx`;
    - the start of an address (text with an "@"): a prefix of `email`;
    - digits that are not a whole number: part of `phone`;
    - anything else: part of the name, in any case.

    The last three are not indexed (a btree serves LIKE only under the "C" collation, and a
    trigram index would slow every import): they read the contacts once per page, never the
    channel's ledger: per million contacts about 0.2 s for an address, 0.3-0.5 s for a name
    (PostgreSQL on a shared 2-core machine; the exact matches take under a millisecond).

    The deliveries of the contacts found are then read through the `contact_id` index, one
    probe per contact, however big the channel.
    """
    query = " ".join(query.split())
    if not query:
        return Contact.objects.none()
    if "@" in query:
        email = query.lower()
        condition = Q(email=email) if is_whole_email(email) else Q(email__startswith=email)
    elif query.strip(PHONE_CHARACTERS) or not any(ch.isdigit() for ch in query):
        condition = Q(name__icontains=query)
    else:
        try:
            condition = Q(phone=normalize_phone(query))
        except ValidationError:
            # Part of a number, not a whole one: read like the names, without an index.
            condition = Q(phone__contains="".join(ch for ch in query if ch.isdigit()))
    return Contact.objects.filter(condition).order_by().values("pk")


def is_whole_email(text: str) -> bool:
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


class DeliveryFilter(django_filters.FilterSet):
    """Outcome, state and contact search; a value that is not a choice is ignored (the
    form shows why), never an error page."""

    q = django_filters.CharFilter(
        label="Contact",
        method="search",
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, email or phone", "autocomplete": "off"}
        ),
    )
    outcome = django_filters.ChoiceFilter(label="Outcome", empty_label="Any outcome")
    state = django_filters.ChoiceFilter(
        label="State", choices=Delivery.State.choices, empty_label="Any state"
    )

    class Meta:
        model = Delivery
        fields = ["q", "outcome", "state"]

    def __init__(self, data=None, *, channel: Channel, **kwargs) -> None:
        # A call's transcript can run to tens of kilobytes: the table never reads `details`
        # (an opened row reads its own), nor the contact's attributes.
        queryset = (
            Delivery.objects.filter(channel=channel)
            .select_related("contact")
            .defer("details", "contact__attributes")
        )
        super().__init__(data, queryset=queryset, **kwargs)
        self.filters["outcome"].extra["choices"] = [
            (outcome.value, outcome.label) for outcome in Channel.OUTCOMES[channel.kind]
        ]

    def search(self, queryset: QuerySet[Delivery], name: str, value: str) -> QuerySet[Delivery]:
        return queryset.filter(contact_id__in=matching_contacts(value))

    @property
    def active(self) -> bool:
        return any(self.form.cleaned_data.get(name) for name in self.Meta.fields)


def cursor(value: str | None) -> int | None:
    """A cursor from the query string, or None for anything that is not a valid id."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None


@dataclass(frozen=True)
class KeysetPage:
    deliveries: list[Delivery]
    # The cursors of the neighbouring pages, None where there is none.
    previous_before: int | None
    next_after: int | None

    @property
    def is_first(self) -> bool:
        return self.previous_before is None


def keyset_page(
    queryset: QuerySet[Delivery], *, after: int | None = None, before: int | None = None
) -> KeysetPage:
    """The PAGE_SIZE deliveries older than `after`, or newer than `before`, newest first.

    One query per page (PAGE_SIZE + 1 rows: the extra one says whether a page follows); a
    `before` page that reaches the newest row becomes the first page, read again.
    """
    if before is not None and after is None:
        rows = list(queryset.filter(pk__gt=before).order_by("pk")[: PAGE_SIZE + 1])
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE][::-1]
            return KeysetPage(rows, previous_before=rows[0].pk, next_after=rows[-1].pk)
        # Less than a page is newer than the cursor: the first page instead, full.
    elif after is not None:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return KeysetPage(
        rows,
        # Past the last row, "Previous" still leads back to the rows newer than the cursor.
        previous_before=(rows[0].pk if rows else after) if after is not None else None,
        next_after=rows[-1].pk if more else None,
    )
