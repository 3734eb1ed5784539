"""A test send (SPEC 4a): a channel's content, as it stands in its form, rendered for a
contact of the campaign's list and sent to an address the manager types, through the
configured provider, without touching the ledger (no delivery row, no counters).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from campaigns.models import Contact, ContactList, normalize_phone

from .content import content_for_contact
from .models import Channel, Delivery
from .providers import Accepted, Outgoing, provider_for

log = logging.getLogger("herald.test_send")

#: How many of the list's contacts the form offers to pick from; any other by id or email.
CHOICES = 50


@dataclass(frozen=True)
class SendTestResult:
    sent: bool
    message: str


def address_for(kind: str, raw: str) -> str:
    """The address typed, checked for the kind: E.164 for calls and SMS, an email for email."""
    if kind == Channel.Kind.EMAIL:
        validate_email(raw)
        return raw
    return normalize_phone(raw)


class SendTestForm(forms.Form):
    contact = forms.TypedChoiceField(
        label="Render for", required=False, coerce=int, empty_value=None
    )
    lookup = forms.CharField(
        label="…or the contact with id or email", required=False, max_length=254
    )
    to = forms.CharField(
        label="Send to",
        max_length=254,
        help_text="A phone number for calls and SMS, an email address for email.",
    )

    def __init__(self, *args, contact_list: ContactList, kind: str | None = None, **kwargs):
        kwargs.setdefault("prefix", "test")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.contacts = Contact.objects.filter(memberships__contact_list=contact_list)
        first = self.contacts.order_by("memberships__id")[:CHOICES]
        self.fields["contact"].choices = [("", "The list's first contact")] + [
            (contact.pk, str(contact)) for contact in first
        ]

    def clean(self) -> dict:
        data = super().clean()
        data["contact"] = self.find_contact(data.get("lookup", ""), data.get("contact"))
        if self.kind and data.get("to"):
            try:
                data["to"] = address_for(self.kind, data["to"].strip())
            except ValidationError as exc:
                message = exc.messages[0] if exc.code == "invalid_phone" else None
                self.add_error("to", message or f"“{data['to']}” is not an email address.")
        return data

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
        if contact is None:
            self.add_error(
                "lookup" if lookup or pk else None,
                "No contact of the campaign's list matches."
                if lookup or pk
                else "The campaign's list has no contact to render the content for.",
            )
        return contact


def send_test(*, channel: Channel, contact: Contact, to: str, by) -> SendTestResult:
    """Render `channel` for `contact` and send it to `to`; nothing is written to the ledger."""
    provider = provider_for(channel.kind)
    name = provider.name or settings.HERALD_PROVIDERS[channel.kind]
    message = Outgoing(
        delivery_id=None,  # a test send has no delivery: no outcome is ever reported for it
        channel_id=channel.pk or 0,  # 0: a channel not added yet
        contact_id=contact.pk,
        kind=channel.kind,
        to=to,
        content=content_for_contact(channel, contact),
    )
    answer = provider.try_send(message)
    if isinstance(answer, BaseException):
        result = SendTestResult(False, f"Not sent to {to}: {name} answered: {answer}")
    elif isinstance(answer, Accepted):
        result = SendTestResult(
            True, f"Sent to {to}: accepted by {name} (id {answer.provider_id})."
        )
    else:
        outcome = (
            Delivery.Outcome(answer.outcome).label
            if answer.outcome in Delivery.Outcome
            else answer.outcome
        )
        result = SendTestResult(
            True, f"Sent to {to}: {outcome.lower()}, says {name} (id {answer.provider_id})."
        )
    log.info(
        "test send of channel %s for contact %s by %s: %s",
        channel.pk,
        contact.pk,
        by,
        result.message,
    )
    return result


def form_errors(*forms_: forms.Form) -> str:
    """The forms' errors as one sentence for the result line, field labels first."""
    parts = []
    for form in forms_:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return "Not sent. " + "; ".join(parts)
