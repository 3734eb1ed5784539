from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from channels.breakdown import status_breakdown
from channels.models import AlreadyDone, Channel, InvalidTransition

# Contacts, lists, memberships and imports are the contacts package's; they stay importable
# from here, where SPEC section 7 names them.
from .contacts.models import ConsentChange as ConsentChange
from .contacts.models import Contact as Contact
from .contacts.models import ContactList
from .contacts.models import ImportJob as ImportJob
from .contacts.models import Membership as Membership
from .contacts.models import normalize_phone as normalize_phone
from .preferences.models import Preferences as Preferences


class CampaignQuerySet(models.QuerySet):
    def lock(self, pk: int) -> Campaign:
        """Lock the campaign's row until the transaction ends; the one place it is taken.

        Every path that changes a campaign or its channels takes this lock first (then a
        channel's), so concurrent actions on one campaign queue instead of deadlocking.
        """
        return self.select_for_update().get(pk=pk)

    def lock_for_change(self, pk: int) -> Campaign:
        """Lock the campaign, refusing an archived one (SPEC section 3: it is read-only)."""
        campaign = self.lock(pk)
        campaign.refuse_if_archived()
        return campaign


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    contact_list = models.ForeignKey(
        ContactList, on_delete=models.PROTECT, related_name="campaigns"
    )
    # Derived by `compute_status` and stored so that lists filter on it in SQL; only
    # `refresh_status` writes it.
    status = models.CharField(
        max_length=16, choices=Status, default=Status.DRAFT, editable=False, db_index=True
    )
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns_created",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    ARCHIVED_MESSAGE = "This campaign is archived; unarchive it first."

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("archive_campaign", "Can archive and unarchive campaigns")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:detail", args=[self.pk])

    # -- status -----------------------------------------------------------------------

    @staticmethod
    def compute_status(*, archived: bool, channel_statuses: list[str]) -> str:
        """SPEC section 3, in its order."""
        statuses = set(channel_statuses)
        if archived:
            return Campaign.Status.ARCHIVED
        if statuses & {Channel.Status.RUNNING, Channel.Status.PAUSED}:
            return Campaign.Status.ACTIVE
        if statuses <= {Channel.Status.READY}:
            return Campaign.Status.DRAFT
        if statuses <= {Channel.Status.COMPLETED, Channel.Status.STOPPED}:
            return Campaign.Status.COMPLETED
        return Campaign.Status.ACTIVE

    def refresh_status(self) -> str:
        """Recompute and store the status; call inside the transaction that changed it."""
        statuses = list(
            Channel.objects.filter(campaign_id=self.pk).values_list("status", flat=True)
        )
        status = self.compute_status(
            archived=self.archived_at is not None, channel_statuses=statuses
        )
        if status != self.status:
            Campaign.objects.filter(pk=self.pk).update(status=status, updated_at=timezone.now())
            self.status = status
        return status

    def status_breakdown(self) -> str:
        """“2 running · 1 paused · 1 ready” (from prefetched channels when there are)."""
        return status_breakdown(channel.status for channel in self.channels.all())

    # -- actions ----------------------------------------------------------------------

    # action -> the campaign statuses it is allowed from (SPEC section 3).
    ACTIONS = {
        "archive": {Status.COMPLETED},
        "unarchive": {Status.ARCHIVED},
    }

    @property
    def is_archived(self) -> bool:
        return self.status == Campaign.Status.ARCHIVED

    def refuse_if_archived(self) -> None:
        if self.is_archived:
            raise InvalidTransition(self.ARCHIVED_MESSAGE)

    def can_add_channel(self) -> bool:
        return not self.is_archived

    @property
    def contact_list_is_fixed(self) -> bool:
        """Once a channel has started (any status but Draft), its audience came from this
        list: changing it would message people who were never in that audience."""
        return self.status != Campaign.Status.DRAFT

    def refusal(self, action: str) -> InvalidTransition | None:
        """What `action` would meet now: None if allowed, AlreadyDone for a no-op."""
        if self.status in self.ACTIONS[action]:
            return None
        if action == "unarchive":
            return AlreadyDone("This campaign is not archived.")
        if self.is_archived:
            return AlreadyDone("This campaign is already archived.")
        return InvalidTransition(
            "Only a completed campaign can be archived; this one is "
            f"{self.get_status_display().lower()}."
        )

    def _act(self, action: str, *, by, archived_at) -> None:
        with transaction.atomic():
            locked = Campaign.objects.lock(self.pk)
            if refusal := locked.refusal(action):
                self.status = locked.status
                self.archived_at = locked.archived_at
                raise refusal
            before = locked.status
            locked.archived_at = archived_at
            Campaign.objects.filter(pk=locked.pk).update(archived_at=archived_at)
            after = locked.refresh_status()
            ActivityEvent.record(
                actor=by, action=action, campaign=locked, from_status=before, to_status=after
            )
        self.archived_at, self.status = locked.archived_at, locked.status

    def archive(self, *, by=None) -> None:
        self._act("archive", by=by, archived_at=timezone.now())

    def unarchive(self, *, by=None) -> None:
        self._act("unarchive", by=by, archived_at=None)

    def add_channel(
        self, channel: Channel, *, by=None, action: str = "add", message: str = ""
    ) -> Channel:
        """Save `channel` (new, validated) as a Ready channel of this campaign.

        `action` and `message` name the activity row (a follow-up is "remarket").
        """
        with transaction.atomic():
            locked = Campaign.objects.lock_for_change(self.pk)
            channel.campaign = self
            channel.created_by = by if getattr(by, "is_authenticated", False) else None
            channel.save()
            # A new Ready channel turns a Completed campaign Active (SPEC section 3).
            locked.refresh_status()
            ActivityEvent.record(
                actor=by,
                action=action,
                campaign=locked,
                channel=channel,
                to_status=channel.status,
                message=message,
            )
        self.status = locked.status
        return channel

    # -- deletion ---------------------------------------------------------------------

    DELETE_REFUSAL = "Stop or pause its running channels before deleting this campaign."

    def can_delete(self, *, channel_statuses: list[str] | None = None) -> bool:
        """SPEC section 3: not while a channel runs (from prefetched channels when there are)."""
        if channel_statuses is None:
            channel_statuses = [channel.status for channel in self.channels.all()]
        return Channel.Status.RUNNING not in channel_statuses

    def deletion_summary(self) -> dict[str, int]:
        from channels.models import Delivery

        return {
            "channels": self.channels.count(),
            "deliveries": Delivery.objects.filter(channel__campaign=self).count(),
            "contacts": self.contact_list.size,
        }

    def delete_everything(self, *, by=None) -> None:
        """Remove the campaign with its channels and deliveries; the contacts stay."""
        with transaction.atomic():
            locked = Campaign.objects.lock(self.pk)
            # Locking the channels too means no channel can be started while we delete.
            statuses = list(
                Channel.objects.select_for_update(no_key=True)
                .filter(campaign=locked)
                .values_list("status", flat=True)
            )
            if not locked.can_delete(channel_statuses=statuses):
                raise InvalidTransition(self.DELETE_REFUSAL)
            ActivityEvent.record(
                actor=by,
                action="delete",
                campaign=None,
                subject=f"campaign “{locked.name}”",
                from_status=locked.status,
                to_status="",
            )
            locked.delete()


class ActivityEvent(models.Model):
    """Who did what, when, to which campaign or channel, from which state to which."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=32)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="activity"
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="activity"
    )
    subject = models.CharField(max_length=300, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The command center's Activity section: a campaign's events, newest first.
            models.Index(fields=["campaign", "-created_at"], name="activity_campaign_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor or "Herald"
        return f"{who} {self.action} {self.subject}".strip()

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor else "Herald"

    @classmethod
    def record(
        cls,
        *,
        actor,
        action: str,
        campaign=None,
        channel=None,
        subject: str = "",
        from_status: str = "",
        to_status: str = "",
        message: str = "",
    ) -> ActivityEvent:
        if actor is not None and not getattr(actor, "is_authenticated", False):
            actor = None
        if not subject:
            subject = f"channel “{channel.name}”" if channel else f"campaign “{campaign.name}”"
        return cls.objects.create(
            actor=actor,
            action=action,
            campaign=campaign,
            channel=channel,
            subject=subject,
            from_status=from_status,
            to_status=to_status,
            message=message,
        )
