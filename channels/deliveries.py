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

    - a phone number, normalised to E.164: equal to `phone` (`contact_phone_idx`);
    - text with an "@": lower-cased (emails are stored so), equal to `email` or a prefix of
      it (`contact_email_idx`; PostgreSQL reads a prefix through that index under the C
      collation Herald's databases use);
    - digits that are not a whole number: part of `phone`, and
    - anything else: part of the name, in any case. Not indexed: the contacts' names are
      read once per page (about 0.1 s a million on PostgreSQL), never the channel's ledger.

    The deliveries of those contacts are then found through the `(channel, contact)` unique
    index, one probe per contact, however big the channel.
    """
    query = " ".join(query.split())
    if not query:
        return Contact.objects.none()
    if "@" in query:
        condition = Q(email__startswith=query.lower())
    elif query.strip(PHONE_CHARACTERS) or not any(ch.isdigit() for ch in query):
        condition = Q(name__icontains=query)
    else:
        try:
            condition = Q(phone=normalize_phone(query))
        except ValidationError:
            # Part of a number, not a whole one: read like the names, without an index.
            condition = Q(phone__contains="".join(ch for ch in query if ch.isdigit()))
    return Contact.objects.filter(condition).order_by().values("pk")


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
        queryset = Delivery.objects.filter(channel=channel).select_related("contact")
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
        after = None  # back at the top: the first page, full
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
