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
            delivery.channel, counted_here = event_channel(delivery.channel_id)
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


def find_delivery(report: Report) -> tuple[Delivery | None, Attempt | None]:
    """The delivery an event is about, locked: by our id when the provider echoes it back
    (so an event that outruns the send's answer still finds its row), else by the
    provider's id. With it, the delivery's earlier call the event is about, when it is not
    about the latest one (voice retries), else None."""
    if report.delivery_id is not None:
        delivery = locked_delivery("id = %s", report.delivery_id)
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
        found = locked_delivery("provider_id = %s", report.provider_id)
        if found:
            return found, None
        # Else perhaps an earlier call of a contact called again (voice retries).
        delivery = (
            Delivery.objects.select_for_update()
            .filter(earlier_calls__provider_id=report.provider_id)
            .first()
        )
        return delivery, earlier_call(delivery, report.provider_id) if delivery else None
    return None, None


# Every callback runs these two reads: written once as plain SQL, since building them
# through the ORM cost a callback more than the database spent running them (bench
# `webhooks`, profiled in the README).


def locked_delivery(condition: str, value: object) -> Delivery | None:
    """The first delivery (by id) meeting `condition`, its row locked until the commit."""
    fields = Delivery._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {columns} FROM {Delivery._meta.db_table} "  # noqa: S608 (names, not input)
        f"WHERE {condition} ORDER BY id LIMIT 1{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    return from_row(Delivery, fields, row)


def from_row(model: type[models.Model], fields: list[models.Field], row: tuple) -> models.Model:
    """An instance of `model` from a row of `fields` (in the model's order, others deferred),
    each value converted as the ORM would (JSON decoded, SQLite's booleans, ...)."""
    values = []
    for model_field, value in zip(fields, row, strict=True):
        column = model_field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        )
        for converter in converters:
            value = converter(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def event_channel(channel_id: int) -> tuple[Channel, bool]:
    """The channel's kind and counters, and whether this transaction now holds its row: the
    row is taken only if free (SKIP LOCKED), else read as it stands, without waiting."""
    wanted = {"id", "kind", *LOCKED_COUNTERS}
    fields = [f for f in Channel._meta.concrete_fields if f.attname in wanted]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = Channel._meta.db_table
    deltas = CounterDelta._meta.db_table
    waiting = f"EXISTS (SELECT 1 FROM {deltas} WHERE channel_id = {table}.id)"  # noqa: S608
    features = connection.features
    lock = ""
    if features.has_select_for_update_skip_locked:
        no_key = "NO KEY " if features.has_select_for_no_key_update else ""
        lock = f" FOR {no_key}UPDATE SKIP LOCKED"
    select = f"SELECT {columns}, {waiting} FROM {table} WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(select + lock, [channel_id])
        row = cursor.fetchone()
        counted_here = row is not None
        if row is None:  # another transaction holds it: read it, count beside it
            cursor.execute(select, [channel_id])
            row = cursor.fetchone()
    channel = from_row(Channel, fields, row[:-1])
    channel.deltas_waiting = bool(row[-1])
    return channel, counted_here


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
    update_row(Delivery, delivery.pk, changes)
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
        insert_row(delta)
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
    counters = ("in_flight", "processed", "interrupted", "converted")
    added = ", ".join(f"{name} = {name} + %s" for name in counters)
    outcomes = Channel._meta.get_field("outcome_counts")
    sql = f"UPDATE {Channel._meta.db_table} SET {added}, outcome_counts = %s WHERE id = %s"  # noqa: S608
    params = [sum(getattr(d, name) for d in deltas) for name in counters]
    params += [outcomes.get_db_prep_save(channel.outcome_counts, connection), channel.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def update_row(model: type[models.Model], pk: int, changes: dict) -> None:
    """`model.objects.filter(pk=pk).update(**changes)` for plain values, in one statement
    written here rather than built by the ORM (see `locked_delivery`)."""
    fields = [model._meta.get_field(name) for name in changes]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {model._meta.db_table} SET {assignments} WHERE id = %s"  # noqa: S608
    values = zip(fields, changes.values(), strict=True)
    params = [f.get_db_prep_save(value, connection) for f, value in values]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk])


def insert_row(instance: models.Model) -> None:
    """`instance.save()` of a new row with plain values, nothing listening to its signals
    and no `auto_now` or database-only defaults (a CounterDelta), in one statement written
    here (see `locked_delivery`); its pk stays unset."""
    fields = [f for f in instance._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    slots = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {instance._meta.db_table} ({columns}) VALUES ({slots})"  # noqa: S608
    params = [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def take_waiting(channel_id: int) -> list[CounterDelta]:
    """The channel's pending CounterDeltas, deleted (the caller holds its row and adds them):
    one `DELETE … RETURNING`, so a delta written meanwhile is either taken or left whole."""
    fields = CounterDelta._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = (
        f"DELETE FROM {CounterDelta._meta.db_table} WHERE channel_id = %s "  # noqa: S608
        f"RETURNING {columns}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [channel_id])
        rows = cursor.fetchall()
    return [from_row(CounterDelta, fields, row) for row in rows]


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
