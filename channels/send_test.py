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

from campaigns.models import Contact, ContactList, normalize_phone

from .content import content_for_contact
from .content_tools import ContactPickerForm
from .models import Channel, Delivery
from .providers import Accepted, Outgoing, provider_for

log = logging.getLogger("herald.test_send")


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


class SendTestForm(ContactPickerForm):
    """The picker of the content tools, and the address to send the test to."""

    to = forms.CharField(
        label="Send to",
        max_length=254,
        help_text="A phone number for calls and SMS, an email address for email.",
    )

    def __init__(self, *args, contact_list: ContactList, kind: str | None = None, **kwargs):
        super().__init__(*args, contact_list=contact_list, **kwargs)
        self.kind = kind

    def clean(self) -> dict:
        data = super().clean()
        if data["contact"] is None and not self.has_error("lookup"):
            self.add_error(None, "The campaign's list has no contact to render the content for.")
        if self.kind and data.get("to"):
            try:
                data["to"] = address_for(self.kind, data["to"].strip())
            except ValidationError as exc:
                message = exc.messages[0] if exc.code == "invalid_phone" else None
                self.add_error("to", message or f"“{data['to']}” is not an email address.")
        return data


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
