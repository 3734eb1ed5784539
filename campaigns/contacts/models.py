"""Contacts, contact lists, memberships and import jobs.

Importable from `campaigns.models` as well (SPEC section 7 names `campaigns.models.Contact`
and `ContactList`); they live here with the rest of the contacts package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from phonenumbers import PhoneNumber

from channels.models import Channel

from .zones import is_time_zone, not_a_zone_message, phone_key, zone_key_for, zones_for_number

if TYPE_CHECKING:
    from .merging import Added


def valid_phone_number(raw: str, *, region: str | None = None) -> tuple[PhoneNumber, int]:
    """`raw` (stripped, not blank) parsed, with its `phonenumbers.PhoneNumberType`; raise
    ValidationError with a message a person can act on when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region or settings.HERALD_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"“{raw}” is not a phone number.", code="invalid_phone") from exc
    # UNKNOWN exactly when `is_valid_number` is false (both match the number against its
    # region's patterns); the type also says which time zones the number is in.
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise ValidationError(f"“{raw}” is not a valid phone number.", code="invalid_phone")
    return number, kind


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """Return `raw` as E.164, or raise ValidationError with a message a person can act on."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    number, _ = valid_phone_number(raw, region=region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone_with_zones(raw: str, *, region: str | None = None) -> tuple[str, str]:
    """`normalize_phone`, and the zone key of a contact with that phone and no time zone
    (`zones.zone_key_for`), found from the same check."""
    raw = (raw or "").strip()
    if not raw:
        return "", ""
    number, kind = valid_phone_number(raw, region=region)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phone_key(zones_for_number(number, kind))


class Contact(models.Model):
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=20, blank=True, help_text="Stored in E.164 form.")
    email = models.EmailField(blank=True)
    # An IANA name, or blank when none was given (SPEC 4b: not UTC, which would put the
    # contact in the wrong sending window).
    timezone = models.CharField(max_length=64, blank=True, default="")
    # Derived from `timezone` and `phone` on every save and import (`zones.zone_key_for`):
    # the engine claims by it with an SQL IN.
    zone_key = models.TextField(
        blank=True, default="", db_default=models.Value(""), editable=False
    )
    attributes = models.JSONField(default=dict, blank=True)
    opted_out_voice = models.BooleanField("opted out of calls", default=False)
    opted_out_sms = models.BooleanField("opted out of SMS", default=False)
    opted_out_email = models.BooleanField("opted out of email", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # The field that says a contact refuses a kind of channel; the one place that pairs them.
    OPT_OUT_FIELDS = {
        Channel.Kind.AI_VOICE: "opted_out_voice",
        Channel.Kind.SMS: "opted_out_sms",
        Channel.Kind.EMAIL: "opted_out_email",
    }

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            # Import de-duplication and the contact search look contacts up by address.
            models.Index(fields=["phone"], name="contact_phone_idx"),
            models.Index(fields=["email"], name="contact_email_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone

    def save(self, *args, **kwargs) -> None:
        # A derived column, not a side effect: kept with the fields it is derived from.
        self.zone_key = zone_key_for(timezone=self.timezone, phone=self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"timezone", "phone"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "zone_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("contacts:contact", args=[self.pk])

    @classmethod
    def opt_out_field(cls, kind: str) -> str:
        return cls.OPT_OUT_FIELDS[kind]

    def set_consent(
        self, kind: str, *, opted_out: bool, source: str, detail: str = "", by=None
    ) -> bool:
        """Opt this contact out of (or back in to) one kind, written to its history.

        Returns whether anything changed: a second STOP, or a bounce for a contact already
        opted out, writes nothing. The conditional update makes two at once change it once.
        """
        field = self.opt_out_field(kind)
        changed = Contact.objects.filter(pk=self.pk, **{field: not opted_out}).update(
            **{field: opted_out}
        )
        setattr(self, field, opted_out)
        if changed:
            ConsentChange.objects.create(
                contact=self,
                kind=kind,
                opted_out=opted_out,
                source=source,
                detail=detail[:300],
                actor=by if getattr(by, "is_authenticated", False) else None,
            )
        return bool(changed)

    def clean_fields(self, exclude=None) -> None:
        # clean() normalises and checks the two addresses; the field validators would judge
        # the raw text instead, refusing " ana@example.com " and giving a bad address two
        # messages.
        super().clean_fields(exclude={*(exclude or ()), "phone", "email"})

    def clean(self) -> None:
        errors = {}
        try:
            self.phone = normalize_phone(self.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
        if self.email:
            # Lower-cased, as the importer stores it: contacts are matched by email with
            # `email__in`, which is case-sensitive on PostgreSQL.
            self.email = self.email.strip().lower()
            max_length = self._meta.get_field("email").max_length
            try:
                validate_email(self.email)
            except ValidationError:
                errors["email"] = [f"“{self.email}” is not a valid email address."]
            else:
                if len(self.email) > max_length:
                    errors["email"] = [f"An email address has at most {max_length} characters."]
        if self.timezone and not is_time_zone(self.timezone):
            errors["timezone"] = [not_a_zone_message(self.timezone)]
        if not self.phone and not self.email and "phone" not in errors:
            errors["phone"] = ["A contact needs a phone number or an email address."]
        if errors:
            raise ValidationError(errors)


class ContactList(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    contacts = models.ManyToManyField(Contact, through="Membership", related_name="lists")
    # Kept equal to the number of membership rows in the same transaction as every change,
    # so that starting a channel on a million-contact list need not count them.
    size = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contacts:list_detail", args=[self.pk])

    def add_contacts(self, contact_ids: list[int]) -> int:
        """Add contacts to the list, skipping those already in it; return how many joined."""
        with transaction.atomic():
            # The row lock orders this against a channel start, which reads `size` and the
            # highest membership id as one snapshot of the audience.
            locked = ContactList.objects.select_for_update().get(pk=self.pk)
            existing = set(
                Membership.objects.filter(
                    contact_list=locked, contact_id__in=contact_ids
                ).values_list("contact_id", flat=True)
            )
            new_ids = list(dict.fromkeys(cid for cid in contact_ids if cid not in existing))
            Membership.objects.bulk_create(
                [Membership(contact_list=locked, contact_id=cid) for cid in new_ids]
            )
            ContactList.objects.filter(pk=locked.pk).update(size=models.F("size") + len(new_ids))
        self.refresh_from_db(fields=["size"])
        return len(new_ids)

    def add_or_merge(self, contacts: list, *, update_existing: bool = False) -> Added:
        """Add unsaved contacts (Contact, or an import row's Candidate) to the list, each one
        merged into the stored contact it is by phone or email (SPEC section 1); the rule is
        spelled out in campaigns/contacts/merging.py."""
        from .merging import add_or_merge

        added = add_or_merge(self, contacts, update_existing=update_existing)
        self.refresh_from_db(fields=["size"])
        return added

    def recount(self) -> None:
        with transaction.atomic():
            ContactList.objects.select_for_update().filter(pk=self.pk).update(
                size=Membership.objects.filter(contact_list=self.pk).count()
            )
        self.refresh_from_db(fields=["size"])

    def delete_with_files(self) -> None:
        """Delete the list (its memberships and imports go with it; the contacts stay), then,
        once that commits, every file its imports kept: uploads and error reports. Raises
        ProtectedError, deleting nothing, while a campaign uses the list."""
        with transaction.atomic():
            files = ImportJob.objects.filter(contact_list=self).values_list("file", "error_report")
            names = [name for pair in files for name in pair if name]
            self.delete()
            storage = ImportJob._meta.get_field("file").storage
            transaction.on_commit(lambda: [storage.delete(name) for name in names])

    def remove_contacts(self, contact_ids: list[int]) -> int:
        with transaction.atomic():
            locked = ContactList.objects.select_for_update().get(pk=self.pk)
            removed, _ = Membership.objects.filter(
                contact_list=locked, contact_id__in=contact_ids
            ).delete()
            ContactList.objects.filter(pk=locked.pk).update(size=models.F("size") - removed)
        self.refresh_from_db(fields=["size"])
        return removed


class Membership(models.Model):
    """A contact's place in a list. Ids only grow, so "id <= cutoff" is a list's snapshot."""

    contact_list = models.ForeignKey(
        ContactList, on_delete=models.CASCADE, related_name="memberships"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact_list", "contact"], name="membership_unique_contact"
            )
        ]
        indexes = [
            # The dispatcher walks a list's memberships in id order up to the start cutoff.
            models.Index(fields=["contact_list", "id"], name="membership_list_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} in {self.contact_list}"


class ConsentChange(models.Model):
    """One opt-out or opt-in of a contact, with where it came from (SPEC 4a, consent)."""

    class Source(models.TextChoices):
        MANAGER = "manager", "Changed on the contact page"
        INBOUND_SMS = "inbound_sms", "Replied by SMS"
        UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link in an email"
        HARD_BOUNCE = "hard_bounce", "Email bounced permanently"
        COMPLAINT = "complaint", "Marked an email as spam"
        PROVIDER_REFUSAL = "provider_refusal", "Provider refused: recipient unsubscribed"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_changes")
    kind = models.CharField(max_length=16, choices=Channel.Kind)
    opted_out = models.BooleanField()
    source = models.CharField(max_length=20, choices=Source)
    detail = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        verb = "opted out of" if self.opted_out else "opted in to"
        return f"{self.contact} {verb} {self.get_kind_display()} ({self.get_source_display()})"


# Imports have their own module; importable from here like every model of the package.
from .import_job import ImportJob  # noqa: E402
