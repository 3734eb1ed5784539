"""Provider events: every status callback, inbound message or report, applied once.

Real providers accept a message or a call at once and report its outcome later. Every such
report (and the simulator's, which travel the same way) comes through `ingest`, which keeps
SPEC G3:

- the event is stored once, keyed by (provider, the provider's event id): a retried
  webhook finds its row and changes nothing;
- an outcome never moves backwards: each outcome has a rank per kind, and an event whose
  outcome ranks below what the delivery holds is stored and ignored (a late `sent` never
  overwrites `delivered`; a bounce after `delivered` does count);
- the delivery and its channel's counters change in the same transaction. An event takes
  the channel's row lock only if it is free (SKIP LOCKED): then it updates the counters
  itself, with any `CounterDelta` rows waiting. When another transaction holds it (a
  claim, another event), the event writes what it changed as a `CounterDelta` row instead
  and does not wait; the next event that finds the row free, or the supervisor's next
  tick (`fold`), adds those into the channel (and completes it when they were its
  last). So a burst of callbacks for one channel
  never queues on its row, and no event waits on a lock while holding one the engine
  waits on (no deadlock).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.db.models import OuterRef
from django.utils import timezone

from .models import Attempt, Channel, CounterDelta, Delivery, ProviderEvent
from .retries import add_details, earlier_call

log = logging.getLogger("herald.events")

# How far each outcome has got. A final outcome (rank 2 and above) settles the delivery;
# `sent` is what a text or an email is until the provider knows more.
RANK = {
    "sent": 1,
    "delivered": 2,
    "undelivered": 2,
    "failed": 2,
    "answered": 2,
    "voicemail": 2,
    "no_answer": 2,
    "busy": 2,
    # A bounce can follow a delivery report (the receiving server gave up later).
    "bounced": 3,
}
FINAL_RANK = 2


@dataclass(frozen=True)
class Report:
    """What a provider said, in Herald's words (each webhook view maps its payload to this)."""

    provider: str
    event_id: str
    kind: str = ""
    status: str = ""  # the provider's own word for it, kept for support
    outcome: str = ""  # Herald's outcome, or "" when the event changes no outcome
    # The provider will say nothing more (a simulated or an SMTP `sent`): close the delivery
    # even at an outcome that is otherwise not final.
    final: bool = False
    provider_id: str = ""
    delivery_id: int | None = None
    converted: bool = False
    error: str = ""
    details: dict = field(default_factory=dict)
    payload: dict = field(default_factory=dict)
    # Set by a report that withdraws consent (a hard bounce, a complaint, Twilio's 21610):
    # the contact is opted out of the channel's kind, with this `ConsentChange.Source`.
    opt_out: str = ""


DUPLICATE = "duplicate"


def ingest(report: Report) -> str:
    """Store and apply one provider event; returns its `ProviderEvent.Result` or "duplicate".

    The delivery is locked first, so an event's duplicates (and any other event about the
    same delivery) wait for it; the event is then stored with its result in one statement,
    which finds a duplicate already stored and changes nothing.
    """
    with transaction.atomic():
        delivery, call = find_delivery(report)
        if delivery is None:
            stored = store_once(report, delivery=None, result=ProviderEvent.Result.UNKNOWN)
            return ProviderEvent.Result.UNKNOWN if stored else DUPLICATE
        if call is not None:
            # The contact was called again since: the new call's outcome is not this one.
            result = ProviderEvent.Result.STALE
            if not store_once(report, delivery=delivery, result=result):
                return DUPLICATE
            add_details(call, report.details)
        else:
            # Never waits for the channel's row (see the module's docstring).
            locked = (
                Channel.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(pk=delivery.channel_id)
                .annotate(
                    deltas_waiting=models.Exists(
                        CounterDelta.objects.filter(channel_id=OuterRef("pk"))
                    )
                )
                .values(*LOCKED_COUNTERS, "deltas_waiting")
                .first()
            )
            counted_here = locked is not None
            if counted_here:
                for name, value in locked.items():  # as they stand under the lock
                    setattr(delivery.channel, name, value)
            result = apply(
                delivery,
                report,
                counted_here=counted_here,
                store=lambda result: store_once(report, delivery=delivery, result=result),
            )
            if result == DUPLICATE:
                return DUPLICATE
        if report.opt_out:
            delivery.contact.set_consent(
                delivery.channel.kind,
                opted_out=True,
                source=report.opt_out,
                detail=report.error or report.status,
            )
    return result


# What an event reads of its channel's row when it holds it: to count, and to tell whether
# this event finished the channel.
LOCKED_COUNTERS = ("status", "outcome_counts", "in_flight", "processed", "audience_size")


def store_once(report: Report, *, delivery: Delivery | None, result: str) -> bool:
    """Insert the event, with what it did, unless (provider, event id) is stored already.

    One statement: a retried webhook that races its first delivery waits on the unique
    index until the first commits, then finds it there. True when this call stored it.
    """
    table = ProviderEvent._meta.db_table
    sql = (
        f"INSERT INTO {table} (provider, event_id, kind, provider_id, status, result, "  # noqa: S608
        "delivery_id, payload, received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
    )
    payload = ProviderEvent._meta.get_field("payload").get_db_prep_value(
        report.payload, connection
    )
    params = [
        report.provider,
        report.event_id[:200],
        report.kind,
        report.provider_id[:100],
        report.status[:40],
        result,
        delivery.pk if delivery else None,
        payload,
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


CHANNEL_UNREAD = (
    "voice_script",
    "sms_template",
    "email_body",
    "email_subject",
    "audience_zones",
    "zone_cursors",
    "lane_heartbeats",
    "source_outcomes",
    "window_days",
)


def find_delivery(report: Report) -> tuple[Delivery | None, Attempt | None]:
    """The delivery an event is about, locked, with its channel: by our id when the provider
    echoes it back (so an event that outruns the send's answer still finds its row), else by
    the provider's id. With it, the delivery's earlier call the event is about, when it is
    not about the latest one (voice retries), else None."""
    rows = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("channel")
        # An event needs the channel's kind and counters, not its content or engine state.
        .defer(*(f"channel__{name}" for name in CHANNEL_UNREAD))
    )
    if report.delivery_id is not None:
        delivery = rows.filter(pk=report.delivery_id).first()
        # No query unless the delivery was called more than once under other ids.
        call = earlier_call(delivery, report.provider_id) if delivery else None
        if (
            delivery
            and report.provider_id
            and delivery.provider_id not in ("", report.provider_id)
            and call is None
        ):
            log.warning(
                "event %s names delivery %s with another provider id", report.event_id, delivery.pk
            )
            return None, None
        return delivery, call
    if report.provider_id:
        found = rows.filter(provider_id=report.provider_id).order_by("pk").first()
        if found:
            return found, None
        # Else perhaps an earlier call of a contact called again (voice retries).
        delivery = rows.filter(earlier_calls__provider_id=report.provider_id).first()
        return delivery, earlier_call(delivery, report.provider_id) if delivery else None
    return None, None


def apply(delivery: Delivery, report: Report, *, counted_here: bool, store) -> str:
    """Move a delivery forward by one event, and its channel's counters with it.

    `store(result)` records the event before anything is written and says whether it was
    new: when it was not (a duplicate), nothing is written and DUPLICATE is returned.
    """
    old_state, old_outcome = delivery.state, delivery.outcome
    changes: dict = {}
    if report.details:
        changes["details"] = {**delivery.details, **report.details}
    if report.provider_id and not delivery.provider_id:
        changes["provider_id"] = report.provider_id[:100]
    moves = moves_forward(delivery, report)
    if moves:
        changes["outcome"] = report.outcome
        if report.final or RANK[report.outcome] >= FINAL_RANK:
            failed = report.outcome == "failed"
            changes["state"] = Delivery.State.FAILED if failed else Delivery.State.DONE
            changes["lease_expires_at"] = None
            if delivery.finished_at is None or old_state in Delivery.IN_FLIGHT_STATES:
                changes["finished_at"] = timezone.now()
        elif old_state == Delivery.State.SENDING:
            changes["state"] = Delivery.State.ACCEPTED
        if report.error:
            changes["error"] = report.error[:1000]
    newly_converted = moves and report.converted and not delivery.converted
    if newly_converted:
        changes.update(converted=True, converted_at=timezone.now())
    if not moves:
        result = ProviderEvent.Result.STALE if report.outcome else ProviderEvent.Result.NOTED
    else:
        result = ProviderEvent.Result.APPLIED
    if not store(result):
        return DUPLICATE
    if not changes:
        return result
    Delivery.objects.filter(pk=delivery.pk).update(**changes)
    for name, value in changes.items():
        setattr(delivery, name, value)
    if moves or newly_converted:
        count_move(
            delivery,
            old_state=old_state,
            old_outcome=old_outcome,
            converted=newly_converted,
            counted_here=counted_here,
        )
    return result


def moves_forward(delivery: Delivery, report: Report) -> bool:
    if not report.outcome or delivery.state == Delivery.State.SKIPPED:
        return False
    if report.outcome not in Channel.OUTCOMES[delivery.channel.kind]:
        return False
    new_rank, old_rank = RANK[report.outcome], RANK.get(delivery.outcome, 0)
    if delivery.state == Delivery.State.INTERRUPTED:
        return new_rank >= FINAL_RANK  # the truth about a claim we gave up on
    if new_rank == old_rank and report.final:
        return delivery.state in Delivery.IN_FLIGHT_STATES  # closes it where it stands
    # Equal ranks: the first final outcome stands (a `delivered` never turns `undelivered`).
    return new_rank > old_rank


def count_move(
    delivery: Delivery,
    *,
    old_state: str,
    old_outcome: str,
    converted: bool,
    counted_here: bool,
) -> None:
    """Change the channel's counters by what one delivery's move changed in the ledger:
    on its row when this transaction holds it (`counted_here`), else as a CounterDelta."""
    new_state, new_outcome = delivery.state, delivery.outcome
    settled = old_state in Delivery.IN_FLIGHT_STATES and new_state not in Delivery.IN_FLIGHT_STATES
    reopened = old_state == Delivery.State.INTERRUPTED and new_state != old_state
    delta = CounterDelta(
        channel_id=delivery.channel_id,
        in_flight=-int(settled),
        processed=int(settled),
        interrupted=-int(reopened),
        converted=int(converted),
        outcomes={},
    )
    if old_outcome != new_outcome:
        delta.outcomes = {new_outcome: 1, **({old_outcome: -1} if old_outcome else {})}
    if counted_here:
        # Holding the row, it also adds what events left while it was busy.
        waiting = getattr(delivery.channel, "deltas_waiting", True)
        add_to_channel(
            delivery.channel, [delta, *(take_waiting(delivery.channel_id) if waiting else [])]
        )
    else:
        delta.save()
    channel = delivery.channel
    # Only an event that counted on the row knows the counters; the others' deltas are
    # folded (and the channel completed) by the supervisor's next tick.
    finished = channel.in_flight <= 0 and channel.processed >= channel.audience_size
    if settled and counted_here and channel.status == Channel.Status.RUNNING and finished:
        from .supervisor import complete_if_done

        transaction.on_commit(lambda: complete_if_done(channel_id=channel.pk))


def add_to_channel(channel: Channel, deltas: list[CounterDelta]) -> None:
    """Add counter changes to a channel whose row this transaction holds."""
    counts = Counter(channel.outcome_counts)
    for delta in deltas:
        counts.update(delta.outcomes)
    channel.outcome_counts = {outcome: n for outcome, n in counts.items() if n}
    channel.in_flight += sum(d.in_flight for d in deltas)
    channel.processed += sum(d.processed for d in deltas)
    Channel.objects.filter(pk=channel.pk).update(
        in_flight=models.F("in_flight") + sum(d.in_flight for d in deltas),
        processed=models.F("processed") + sum(d.processed for d in deltas),
        interrupted=models.F("interrupted") + sum(d.interrupted for d in deltas),
        converted=models.F("converted") + sum(d.converted for d in deltas),
        outcome_counts=channel.outcome_counts,
    )


def take_waiting(channel_id: int) -> list[CounterDelta]:
    """The channel's pending CounterDeltas, deleted (the caller holds its row and adds them)."""
    waiting = list(CounterDelta.objects.filter(channel_id=channel_id))
    if waiting:
        CounterDelta.objects.filter(pk__in=[d.pk for d in waiting]).delete()
    return waiting


def fold(*, channel_id: int) -> int:
    """Add the channel's pending CounterDeltas into its row (the supervisor, every tick)."""
    with transaction.atomic():
        channel = (
            Channel.objects.select_for_update(no_key=True)
            .only(*LOCKED_COUNTERS)
            .filter(pk=channel_id)
            .first()
        )
        waiting = take_waiting(channel_id) if channel else []
        if waiting:
            add_to_channel(channel, waiting)
    return len(waiting)


def simulated_report(kind: str, outcome: dict) -> Report:
    """The simulated provider's final event for one delivery."""
    return Report(
        provider="simulated",
        event_id=f"{outcome['provider_id']}:{outcome['outcome']}",
        kind=kind,
        status=outcome["outcome"],
        outcome=outcome["outcome"],
        final=True,
        provider_id=outcome["provider_id"],
        delivery_id=outcome["delivery_id"],
        converted=outcome["converted"],
        details=outcome.get("details") or {},
        payload=outcome,
    )
