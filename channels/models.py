from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone

from .figures import Outcome, percent_done, ratio
from .placeholders import render_template, validate_template  # noqa: F401
from .windows import Window, window_errors


class InvalidTransition(Exception):
    """A refused action; `str(exc)` is the message to show the person who asked."""


class AlreadyDone(InvalidTransition):
    """A repeated action that is already done ("already paused"): a no-op with a message."""


def list_of_all_days() -> list[int]:
    return [0, 1, 2, 3, 4, 5, 6]


class Channel(models.Model):
    class Kind(models.TextChoices):
        AI_VOICE = "ai_voice", "AI Voice"
        SMS = "sms", "SMS Blast"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    # The lifecycle of SPEC section 2: action -> (statuses it is allowed from, status it sets).
    TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
        "start": (frozenset({Status.READY}), Status.RUNNING),
        "pause": (frozenset({Status.RUNNING}), Status.PAUSED),
        "resume": (frozenset({Status.PAUSED}), Status.RUNNING),
        "stop": (frozenset({Status.RUNNING, Status.PAUSED}), Status.STOPPED),
        "complete": (frozenset({Status.RUNNING}), Status.COMPLETED),
    }
    EDITABLE_STATUSES = frozenset({Status.READY, Status.PAUSED})
    FINISHED_STATUSES = frozenset({Status.COMPLETED, Status.STOPPED})
    # The outcomes each kind's provider can answer, in the order the pages list them.
    OUTCOMES = {
        Kind.AI_VOICE: [
            Outcome.ANSWERED,
            Outcome.VOICEMAIL,
            Outcome.NO_ANSWER,
            Outcome.BUSY,
            Outcome.FAILED,
        ],
        Kind.SMS: [Outcome.SENT, Outcome.DELIVERED, Outcome.UNDELIVERED, Outcome.FAILED],
        Kind.EMAIL: [Outcome.SENT, Outcome.DELIVERED, Outcome.BOUNCED, Outcome.FAILED],
    }
    DEFAULT_MAX_PER_SECOND = {Kind.AI_VOICE: 5, Kind.SMS: 50, Kind.EMAIL: 100}
    DEFAULT_MAX_CONCURRENT = 10
    # SPEC 4b: calls and texts only in the US TCPA hours unless the manager says otherwise;
    # email any time. Given to every new channel told its kind but not its hours (__init__).
    DEFAULT_WINDOWS = {
        Kind.AI_VOICE: (time(8), time(21)),
        Kind.SMS: (time(8), time(21)),
        Kind.EMAIL: (None, None),
    }

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="channels"
    )
    kind = models.CharField(max_length=16, choices=Kind)
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=Status, default=Status.READY, editable=False, db_index=True
    )

    # Kind-specific content.
    voice_script = models.TextField("agent script", blank=True, validators=[validate_template])
    caller_id = models.CharField("caller ID", max_length=20, blank=True)
    convert_on_success = models.BooleanField(
        "Mark converted when the assistant's success evaluation passes",
        default=False,
        help_text="Voice only.",
    )
    sms_template = models.TextField("message template", blank=True, validators=[validate_template])
    sms_sender = models.CharField("sender", max_length=20, blank=True)
    email_subject = models.CharField(
        "subject", max_length=200, blank=True, validators=[validate_template]
    )
    email_body = models.TextField("body", blank=True, validators=[validate_template])
    email_from = models.EmailField("from address", blank=True)

    # Pacing.
    max_per_second = models.PositiveIntegerField(
        "max contacts per second", default=10, help_text="Never exceeded in any one second."
    )
    max_concurrent = models.PositiveIntegerField(
        "max concurrent calls",
        default=DEFAULT_MAX_CONCURRENT,
        help_text="Voice only: calls in progress at once.",
    )

    # Sending window (SPEC section 4b), in each contact's local time. No start and end: any
    # hour. Days are weekday numbers, 0 = Monday.
    window_days = models.JSONField("sending days", default=list_of_all_days, blank=True)
    window_start = models.TimeField("window opens", null=True, blank=True)
    window_end = models.TimeField("window closes", null=True, blank=True)
    # Voice retries (SPEC 4b, channels/retries.py): the outcomes called again, after how long,
    # and at most how many calls per contact (1: none).
    retry_outcomes = models.JSONField("call again after", default=list, blank=True)
    retry_after_minutes = models.PositiveIntegerField("retry after (minutes)", default=60)
    max_attempts = models.PositiveSmallIntegerField("max calls per contact", default=1)

    # The audience. A list-based channel's audience is the list's memberships with an id up
    # to `audience_cutoff`, fixed at start; a remarketing channel's is its `audience_members`.
    source_channel = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    source_outcomes = models.JSONField(default=list, blank=True)
    source_unconverted_only = models.BooleanField(default=False)
    audience_cutoff = models.BigIntegerField(null=True, blank=True, editable=False)
    audience_size = models.PositiveIntegerField(default=0, editable=False)

    # Progress, kept equal to the ledger in the same transaction as every delivery change.
    processed = models.PositiveIntegerField(default=0, editable=False)
    in_flight = models.PositiveIntegerField(default=0, editable=False)
    skipped = models.PositiveIntegerField(default=0, editable=False)
    interrupted = models.PositiveIntegerField(default=0, editable=False)
    converted = models.PositiveIntegerField(default=0, editable=False)
    retries = models.PositiveIntegerField(default=0, editable=False)  # calls after the first
    outcome_counts = models.JSONField(default=dict, blank=True, editable=False)

    # Engine bookkeeping (channels/dispatch.py). The cursor only speeds up the walk through
    # the audience; the ledger and its unique constraint decide who has been contacted.
    claim_cursor = models.BigIntegerField(default=0, editable=False)
    dispatch_generation = models.PositiveIntegerField(default=0, editable=False)
    # A Ready channel's scheduled start (channels/scheduling.py), and who scheduled it: the
    # start is made in their name.
    scheduled_at = models.DateTimeField(null=True, blank=True, editable=False)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # channels/windows.py: the audience's zone keys (found at the first claim) and, per key,
    # the highest audience row id claimed; when the remaining contacts are all outside their
    # window, when and where the next ones open (for the card).
    audience_zones = models.JSONField(null=True, blank=True, editable=False)
    zone_cursors = models.JSONField(default=dict, blank=True, editable=False)
    waiting_until = models.DateTimeField(null=True, blank=True, editable=False)
    waiting_zone = models.CharField(max_length=64, blank=True, editable=False)
    # Set when the provider answered 429: no claim before this instant (the channel slows
    # down by itself instead of burning through its list with refusals).
    throttled_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Why Herald paused the channel by itself (its provider failing), shown on its card.
    pause_reason = models.CharField(max_length=300, blank=True, editable=False)
    # Lane number -> when that task chain last claimed (epoch seconds), for the supervisor.
    lane_heartbeats = models.JSONField(default=dict, blank=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        permissions = [("operate_channel", "Can start, pause, resume and stop channels")]
        indexes = [
            # The engine's supervisor looks for running channels on every tick.
            models.Index(
                fields=["status"],
                name="channel_running_idx",
                condition=models.Q(status="running"),
            ),
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # However a channel is made (the form, add_channel, remarketing, seed_demo, the
        # shell), its kind's hours unless it was given its own; a row loaded from the
        # database comes positionally and keeps what is stored.
        if not args and not {"window_start", "window_end"} & set(kwargs):
            self.window_start, self.window_end = self.DEFAULT_WINDOWS.get(self.kind, (None, None))

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    # -- content ------------------------------------------------------------------------

    REQUIRED_CONTENT = {
        Kind.AI_VOICE: ["voice_script"],
        Kind.SMS: ["sms_template"],
        Kind.EMAIL: ["email_subject", "email_body"],
    }

    #: Twilio refuses a message body longer than this.
    SMS_MAX_LENGTH = 1600
    #: Each kind's content is capped (the subject by its column). Generous but bounded:
    #: every send renders its own copy, and a batch holds a thousand.
    CONTENT_MAX_LENGTHS = {"voice_script": 20_000, "email_body": 100_000}

    def clean(self) -> None:
        errors = {
            field: "This field is required for this kind of channel."
            for field in self.REQUIRED_CONTENT.get(self.kind, [])
            if not getattr(self, field).strip()
        }
        if self.kind == self.Kind.SMS and len(self.sms_template) > self.SMS_MAX_LENGTH:
            from .sms_length import sms_length

            errors["sms_template"] = (
                f"A text can be at most {self.SMS_MAX_LENGTH:,} characters (Twilio's limit); "
                f"this template has {sms_length(self.sms_template)}."
            )
        for field, limit in self.CONTENT_MAX_LENGTHS.items():
            if len(getattr(self, field)) > limit:
                label = self._meta.get_field(field).verbose_name
                errors[field] = (
                    f"The {label} can be at most {limit:,} characters; "
                    f"this one has {len(getattr(self, field)):,}."
                )
        if self.max_per_second < 1:
            errors["max_per_second"] = "Allow at least one contact per second."
        if self.kind == self.Kind.AI_VOICE and self.max_concurrent < 1:
            errors["max_concurrent"] = "Allow at least one call at a time."
        errors.update(window_errors(self.window))
        from .retries import policy_errors

        errors.update(policy_errors(self))
        if self._state.adding and self.campaign_id and self.campaign.is_archived:
            errors[NON_FIELD_ERRORS] = self.campaign.ARCHIVED_MESSAGE
        if errors:
            raise ValidationError(errors)

    @property
    def window(self) -> Window:
        return Window(frozenset(self.window_days or ()), self.window_start, self.window_end)

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    def edit_refusal(self) -> str:
        """Why this channel cannot be edited now (SPEC section 2), or ""."""
        if self.is_editable:
            return ""
        if self.status == self.Status.RUNNING:
            return "A running channel cannot be edited: pause it first, then edit it."
        return (
            f"A {self.get_status_display().lower()} channel cannot be edited; "
            "remarket it to follow up with a new channel."
        )

    @property
    def is_remarketing(self) -> bool:
        return self.source_channel_id is not None or bool(self.source_outcomes)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    @property
    def address_field(self) -> str:
        return "email" if self.kind == self.Kind.EMAIL else "phone"

    # -- figures (the command center, Analytics and the campaign list all read these) ----

    @property
    def audience(self) -> int:
        """A run's frozen audience; before a list-based channel starts, its list as it stands."""
        if self.status == self.Status.READY and not self.is_remarketing:
            return self.campaign.contact_list.size
        return self.audience_size

    @property
    def contacted(self) -> int:
        """Deliveries that reached their contact (`Delivery.is_contacted`), from the counters."""
        return sum(
            count
            for outcome, count in self.outcome_counts.items()
            if outcome not in Delivery.UNREACHED_OUTCOMES
        )

    @property
    def failed(self) -> int:
        return self.outcome_counts.get(Outcome.FAILED, 0)

    @property
    def progress_percent(self) -> int:
        return percent_done(
            self.processed, self.audience, complete=self.status == self.Status.COMPLETED
        )

    @property
    def conversion_rate(self) -> float | None:
        """Converted / contacted; None while nobody has been contacted."""
        return ratio(self.converted, self.contacted)

    @property
    def remaining(self) -> int:
        return max(0, self.audience - self.processed)

    def allowed_actions(self) -> list[str]:
        """User actions the current status allows, in the order the buttons appear."""
        return [
            action
            for action in ("start", "pause", "resume", "stop")
            if self.status in self.TRANSITIONS[action][0]
        ]

    # -- transitions --------------------------------------------------------------------

    def refusal_message(self, action: str) -> str:
        target = self.TRANSITIONS[action][1]
        status = self.Status(self.status)
        if status == target:
            return f"This channel is already {status.label.lower()}."
        if status == self.Status.STOPPED:
            return "This channel was stopped; a stopped run cannot be changed."
        if status == self.Status.COMPLETED:
            return "This channel has completed; it cannot be changed."
        verbs = {
            "start": "started",
            "pause": "paused",
            "resume": "resumed",
            "stop": "stopped",
            "complete": "completed",
        }
        return f"A {status.label.lower()} channel cannot be {verbs[action]}."

    def _transition(self, action: str, *, by=None, reason: str = "") -> None:
        from campaigns.models import ActivityEvent, Campaign, ContactList

        allowed, target = self.TRANSITIONS[action]
        with transaction.atomic():
            # Campaign first, then channel: the lock order of every path that takes both.
            campaign = Campaign.objects.lock(self.campaign_id)
            locked = Channel.objects.select_for_update(no_key=True).get(pk=self.pk)
            if locked.status not in allowed:
                self._copy_state(locked)
                refusal = AlreadyDone if locked.status == target else InvalidTransition
                raise refusal(locked.refusal_message(action))
            # After the channel's own refusal: "already stopped" stays a no-op when archived.
            campaign.refuse_if_archived()
            now = timezone.now()
            changes: dict = {"status": target}
            if action == "start":
                changes["started_at"] = now
                # Started by hand before its time, a schedule has nothing left to do.
                changes["scheduled_at"] = None
                if not locked.is_remarketing:
                    audience_list = ContactList.objects.select_for_update().get(
                        pk=campaign.contact_list_id
                    )
                    last = audience_list.memberships.order_by("-id").values_list("id", flat=True)
                    changes["audience_cutoff"] = last.first() or 0
                    changes["audience_size"] = audience_list.size
            elif action == "pause":
                changes["paused_at"] = now
                changes["pause_reason"] = reason
            elif action == "resume":
                changes["paused_at"] = None
                changes["pause_reason"] = ""
            elif action in ("stop", "complete"):
                changes["finished_at"] = now
            from_status = locked.status
            Channel.objects.filter(pk=locked.pk).update(**changes)
            for field, value in changes.items():
                setattr(locked, field, value)
            before = campaign.status
            campaign.refresh_status()
            ActivityEvent.record(
                actor=by,
                action=action,
                campaign=campaign,
                channel=locked,
                from_status=from_status,
                to_status=target,
                message=" ".join(
                    part
                    for part in (
                        reason,
                        f"Campaign {Campaign.Status(before).label} → "
                        f"{Campaign.Status(campaign.status).label}"
                        if before != campaign.status
                        else "",
                    )
                    if part
                ),
            )
            if target == self.Status.RUNNING:
                from channels import dispatch

                transaction.on_commit(lambda: dispatch.wake(channel_id=locked.pk))
        self._copy_state(locked)
        self.campaign = campaign

    def _copy_state(self, other: Channel) -> None:
        for field in (
            "status",
            "started_at",
            "paused_at",
            "finished_at",
            "audience_cutoff",
            "audience_size",
            "pause_reason",
        ):
            setattr(self, field, getattr(other, field))

    def start(self, *, by=None, reason: str = "") -> None:
        """`reason`: said in the activity log (a scheduled start says so and how late)."""
        self._transition("start", by=by, reason=reason)

    def pause(self, *, by=None, reason: str = "") -> None:
        """`reason`: why Herald itself paused it (a failing provider), for its card and log."""
        self._transition("pause", by=by, reason=reason)

    def resume(self, *, by=None) -> None:
        self._transition("resume", by=by)

    def stop(self, *, by=None) -> None:
        self._transition("stop", by=by)

    def complete(self, *, by=None) -> None:
        """Called by the engine once every audience contact has a final delivery."""
        self._transition("complete", by=by)

    def remove(self, *, by=None) -> None:
        """Delete this channel, which must still be Ready (SPEC section 2)."""
        from campaigns.models import ActivityEvent, Campaign

        with transaction.atomic():
            campaign = Campaign.objects.lock(self.campaign_id)
            removed, _ = Channel.objects.filter(pk=self.pk, status=self.Status.READY).delete()
            if not removed:
                raise InvalidTransition("Only a ready channel can be removed.")
            # Removing the last Ready channel can turn an Active campaign Completed.
            campaign.refresh_status()
            ActivityEvent.record(
                actor=by,
                action="remove",
                campaign=campaign,
                subject=f"channel “{self.name}”",
                from_status=self.Status.READY,
            )

    # -- audience -----------------------------------------------------------------------

    def audience_contact_ids(self) -> models.QuerySet:
        """The contacts this run works through (only meaningful once started)."""
        from campaigns.models import Membership

        if self.is_remarketing:
            return AudienceMember.objects.filter(channel=self).values("contact_id")
        return Membership.objects.filter(
            contact_list_id=self.campaign.contact_list_id, id__lte=self.audience_cutoff or 0
        ).values("contact_id")


# The ledger's models live in channels/ledger.py; they are importable from here as well.
from .ledger import (  # noqa: E402, F401
    Attempt,
    AudienceMember,
    CounterDelta,
    Delivery,
    EngineLease,
    ProviderEvent,
)
