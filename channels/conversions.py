"""Marking deliveries converted: one from the contact page, or many from an uploaded list.

The provider's own answer is recorded by the engine (channels/dispatch.py). Here a person
says so. Either way the channel's `converted` counter changes in the same transaction as the
delivery rows, under the channel's row lock, and only rows not yet converted count, so a
conversion is never counted twice.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from .models import Channel, Delivery, InvalidTransition

NOT_CONTACTED_MESSAGE = "Only a contacted delivery can be marked converted; this one is {}."
# Addresses per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 1000


def mark_converted(*, delivery: Delivery, by=None) -> bool:
    """Mark one delivery converted; False if it already was (a no-op)."""
    from campaigns.models import ActivityEvent, Campaign

    with transaction.atomic():
        campaign = Campaign.objects.lock_for_change(delivery.channel.campaign_id)
        channel = Channel.objects.select_for_update(no_key=True).get(pk=delivery.channel_id)
        delivery.refresh_from_db()
        if delivery.converted:
            return False
        if not delivery.is_contacted:
            raise InvalidTransition(
                NOT_CONTACTED_MESSAGE.format(delivery.get_state_display().lower())
            )
        now = timezone.now()
        Delivery.objects.filter(pk=delivery.pk).update(converted=True, converted_at=now)
        Channel.objects.filter(pk=channel.pk).update(converted=models.F("converted") + 1)
        delivery.converted, delivery.converted_at = True, now
        ActivityEvent.record(
            actor=by,
            action="convert",
            campaign=campaign,
            channel=channel,
            message=f"Marked {delivery.contact} converted.",
        )
    return True


@dataclass
class ConversionReport:
    converted: int = 0
    already_converted: int = 0
    not_contacted: int = 0
    # Phones and emails that no delivery of the channel went to.
    unknown: list[str] = field(default_factory=list)
    # Cells that are neither (a header, a name column, a typo).
    ignored: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return self.converted + self.already_converted + self.not_contacted


def read_addresses(text: str) -> list[str]:
    """Every cell of an uploaded list (one address a line, or a CSV), blanks dropped.
    Raises csv.Error for text that is not CSV (a lone carriage return, a huge cell)."""
    cells = (cell.strip() for row in csv.reader(io.StringIO(text)) for cell in row)
    return list(dict.fromkeys(cell for cell in cells if cell))


def split_addresses(addresses: list[str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(email lowered -> as given, E.164 phone -> as given, neither) for an uploaded list."""
    from campaigns.models import normalize_phone

    emails: dict[str, str] = {}
    phones: dict[str, str] = {}
    invalid: list[str] = []
    for raw in addresses:
        if "@" in raw:
            emails.setdefault(raw.lower(), raw)
            continue
        try:
            phones.setdefault(normalize_phone(raw), raw)
        except ValidationError:
            invalid.append(raw)
    return emails, phones, invalid


def matching_deliveries(*, channel: Channel, emails: list[str], phones: list[str]):
    """(delivery id, state, outcome, converted, lowered email, phone) of matching contacts."""
    rows = Delivery.objects.filter(channel=channel).alias(email_lower=Lower("contact__email"))
    columns = ("id", "state", "outcome", "converted", "contact__email", "contact__phone")
    for start in range(0, len(emails), CHUNK):
        yield from rows.filter(email_lower__in=emails[start : start + CHUNK]).values_list(*columns)
    for start in range(0, len(phones), CHUNK):
        yield from rows.filter(contact__phone__in=phones[start : start + CHUNK]).values_list(
            *columns
        )


def mark_converted_from_list(
    *, channel: Channel, addresses: list[str], by=None
) -> ConversionReport:
    """Mark converted the channel's deliveries to the uploaded phones or emails (the cells
    `read_addresses` found)."""
    from campaigns.models import ActivityEvent, Campaign

    emails, phones, invalid = split_addresses(addresses)
    report = ConversionReport(ignored=invalid)
    found_emails: set[str] = set()
    found_phones: set[str] = set()
    to_convert: set[int] = set()
    seen: set[int] = set()
    for pk, state, outcome, converted, email, phone in matching_deliveries(
        channel=channel, emails=list(emails), phones=list(phones)
    ):
        found_emails.add((email or "").lower())
        found_phones.add(phone)
        if pk in seen:
            continue  # matched by both its email and its phone
        seen.add(pk)
        if converted:
            report.already_converted += 1
        elif Delivery.counts_as_contacted(state=state, outcome=outcome):
            to_convert.add(pk)
        else:
            report.not_contacted += 1
    report.unknown += [raw for key, raw in emails.items() if key not in found_emails]
    report.unknown += [raw for key, raw in phones.items() if key not in found_phones]
    with transaction.atomic():
        campaign = Campaign.objects.lock_for_change(channel.campaign_id)
        Channel.objects.select_for_update(no_key=True).filter(pk=channel.pk).values_list(
            "pk"
        ).first()
        ids = sorted(to_convert)
        now = timezone.now()
        for start in range(0, len(ids), CHUNK):
            # `converted=False` again under the lock: a concurrent mark is not counted twice.
            report.converted += Delivery.objects.filter(
                pk__in=ids[start : start + CHUNK], converted=False
            ).update(converted=True, converted_at=now)
        report.already_converted += len(ids) - report.converted
        Channel.objects.filter(pk=channel.pk).update(
            converted=models.F("converted") + report.converted
        )
        ActivityEvent.record(
            actor=by,
            action="convert",
            campaign=campaign,
            channel=channel,
            message=(
                f"Uploaded conversions: {report.converted} marked converted, "
                f"{report.already_converted} already converted, "
                f"{report.not_contacted} not contacted, {len(report.unknown)} unknown, "
                f"{len(report.ignored)} cells ignored."
            ),
        )
    return report
