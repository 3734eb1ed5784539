"""The ledger: deliveries (one per channel and contact), remarketing audiences, provider
events, counter deltas and the engine's lease. Importable from `channels.models` too."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .figures import Outcome, State
from .models import Channel


class AudienceMember(models.Model):
    """A remarketing channel's audience, frozen when the channel is created."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="audience_members")
    contact = models.ForeignKey("campaigns.Contact", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "contact"], name="audience_unique_contact")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.channel_id}"


class Delivery(models.Model):
    """The ledger: one row per (channel, contact) handed to a provider or skipped."""

    # Both with their labels in channels/figures.py, where every page's figures come from.
    State = State
    Outcome = Outcome
    # Outcomes that mean the provider did not reach the contact (SPEC: "contacted" excludes
    # deliveries that failed).
    UNREACHED_OUTCOMES = frozenset({Outcome.FAILED})
    IN_FLIGHT_STATES = frozenset({State.SENDING, State.ACCEPTED})

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    contact = models.ForeignKey(
        "campaigns.Contact", on_delete=models.PROTECT, related_name="deliveries"
    )
    state = models.CharField(max_length=16, choices=State, default=State.SENDING)
    outcome = models.CharField(max_length=16, blank=True)
    converted = models.BooleanField(default=False)
    converted_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    # What the provider reported: for a call its duration, ended reason, transcript,
    # summary and recording link (channels/events.py merges each event's details in).
    # The database default lets bulk INSERTs (remarketing, benchmarks) leave it out.
    details = models.JSONField(default=dict, db_default=models.Value("{}"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # `sending`: a worker that dies leaves its claims so; past this instant they are
    # interrupted. `accepted`: past this instant (HERALD_OUTCOME_TIMEOUT) the supervisor
    # closes the delivery with its last known outcome.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Voice retries (channels/retries.py): the row holds the contact's latest call, which is
    # call number `attempts`, claimed at `retried_at` when it is not the first; the earlier
    # calls are `Attempt` rows.
    attempts = models.PositiveSmallIntegerField(default=1, db_default=1)
    retried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            # G1: a contact is never contacted twice by the same channel.
            models.UniqueConstraint(
                fields=["channel", "contact"], name="delivery_once_per_contact"
            )
        ]
        indexes = [
            # The lease sweeper looks only at in-flight rows.
            models.Index(
                fields=["channel", "lease_expires_at"],
                name="delivery_in_flight_idx",
                condition=models.Q(state="sending"),
            ),
            # The outcome-timeout sweep looks only at accepted rows.
            models.Index(
                fields=["channel", "lease_expires_at"],
                name="delivery_accepted_idx",
                condition=models.Q(state="accepted"),
            ),
            # Provider events find their delivery by the provider's message or call id.
            models.Index(
                fields=["provider_id"],
                name="delivery_provider_id_idx",
                condition=~models.Q(provider_id=""),
            ),
            # Analytics: progress over time per channel.
            models.Index(fields=["channel", "created_at"], name="delivery_channel_time_idx"),
            # The deliveries table (channels/deliveries.py `keyset_page`) reads a channel's
            # rows newest first from a cursor id, unfiltered or by outcome or by state: each
            # page walks one of these from its cursor, at page 1,000 as at page 1.
            models.Index(fields=["channel", "id"], name="delivery_channel_page_idx"),
            models.Index(fields=["channel", "outcome", "id"], name="delivery_outcome_page_idx"),
            models.Index(fields=["channel", "state", "id"], name="delivery_state_page_idx"),
            # channels/retries.py: the calls that may be placed again, oldest ended first.
            models.Index(
                fields=["channel", "finished_at"],
                name="delivery_retryable_idx",
                condition=models.Q(
                    state="done", converted=False, outcome__in=["no_answer", "busy", "voicemail"]
                ),
            ),
            # Pacing counts the retries claimed in the last second (channels/retries.py).
            models.Index(
                fields=["channel", "retried_at"],
                name="delivery_retried_idx",
                condition=models.Q(retried_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.contact_id}: {self.state} {self.outcome}".strip()

    @classmethod
    def counts_as_contacted(cls, *, state: str, outcome: str) -> bool:
        """SPEC: contacted means the provider reached the contact; only those can convert."""
        return state == cls.State.DONE and outcome not in cls.UNREACHED_OUTCOMES

    @property
    def is_contacted(self) -> bool:
        return self.counts_as_contacted(state=self.state, outcome=self.outcome)


class Attempt(models.Model):
    """An earlier call to a contact, written when the next one is claimed (voice retries).

    The delivery holds the latest call, number `delivery.attempts`: a contact's calls in
    order are its Attempt rows, then the delivery.
    """

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="earlier_calls")
    number = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome)
    provider_id = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_once_per_number")
        ]
        indexes = [
            # A late event about an earlier call is told apart by its provider id.
            models.Index(
                fields=["provider_id"],
                name="attempt_provider_id_idx",
                condition=~models.Q(provider_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} call {self.number}: {self.outcome}"


class EngineLease(models.Model):
    """A named lease held by one task chain at a time (the engine's supervisor)."""

    name = models.CharField(max_length=50, primary_key=True)
    token = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} until {self.expires_at:%H:%M:%S}"


class CounterDelta(models.Model):
    """What one provider event changed in its channel's counters, written when another
    transaction held the channel's row: a burst of events never queues on that row.
    `channels.events.fold` adds these into the channel (right after, or on the next
    supervisor tick) and deletes them."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    in_flight = models.IntegerField(default=0)
    processed = models.IntegerField(default=0)
    interrupted = models.IntegerField(default=0)
    converted = models.IntegerField(default=0)
    outcomes = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.processed:+d} processed"


class ProviderEvent(models.Model):
    """Every status callback or inbound message a provider sent, stored once.

    `event_id` is the provider's own id for the event (or, where the provider has none,
    its message id and status), so a retried webhook finds its row and changes nothing.
    """

    class Result(models.TextChoices):
        APPLIED = "applied", "Applied"
        STALE = "stale", "Older than what is recorded"
        UNKNOWN = "unknown", "No delivery with that id"
        NOTED = "noted", "Recorded (nothing to change)"

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    status = models.CharField("reported status", max_length=40, blank=True)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    result = models.CharField(max_length=16, choices=Result, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # G3: an event is recorded once, however often the provider retries it.
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")
        ]
        indexes = [
            # The Providers page shows each provider's latest event.
            models.Index(fields=["provider", "-received_at"], name="provider_event_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}: {self.status}"
