"""Providers' answers to sends: recorded in the ledger and counted, once.

A batch of answers is one UPDATE of the delivery rows still `sending` and one update of
the channel's counters, in a transaction that holds the channel's row (SPEC G3). A late
answer to a claim already declared interrupted is still recorded, and counted as what it
changed; an answer an event outran keeps the event's outcome. A 429 holds the channel's
sends back; a provider failing most sends pauses the channel (listmonk's error threshold).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from .bulk import rows_source
from .models import Channel, CounterDelta, Delivery, InvalidTransition
from .options import option
from .providers import Accepted, Answer, Outgoing, ProviderResult, RateLimited

log = logging.getLogger("herald.dispatch")


def answer_row(kind: str, message: Outgoing, answer: Answer) -> tuple:
    """(delivery id, state, outcome, converted, provider id, error) for one answer."""
    failed = (message.delivery_id, Delivery.State.FAILED, "failed", False, "")
    if isinstance(answer, BaseException):
        # PostgreSQL's text holds no NUL: one in a provider's message would fail the batch.
        return (*failed, f"{type(answer).__name__}: {answer}".replace("\x00", "")[:1000])
    allowed = Channel.OUTCOMES[kind]
    if answer.outcome and answer.outcome not in allowed:
        return (*failed, f"Provider answered an unknown outcome {answer.outcome!r}.")
    if isinstance(answer, Accepted):
        state, converted = Delivery.State.ACCEPTED, False
    elif not answer.outcome:
        return (*failed, "Provider answered without an outcome.")
    else:
        state, converted = Delivery.State.DONE, bool(answer.converted)
    return (message.delivery_id, state, answer.outcome, converted, answer.provider_id[:100], "")


def update_deliveries(rows: list[tuple], *, from_state: str, now, outcome_due) -> set[int]:
    """One UPDATE for the whole batch, touching only rows still in `from_state`; returns the
    ids it changed.

    An accepted row stays open: no finish time, and its lease becomes the instant by which
    its final event must have come (`outcome_due`).
    """
    # Only placeholders and our own table name are formatted into the statement.
    source, values = rows_source(rows, ["bigint", "text", "text", "boolean", "text", "text"])
    table = Delivery._meta.db_table
    sql = (
        f"UPDATE {table} SET state = v.column2, outcome = v.column3, "  # noqa: S608
        "converted = v.column4, provider_id = v.column5, error = v.column6, "
        "finished_at = CASE WHEN v.column2 = %s THEN NULL ELSE %s END, "
        "converted_at = CASE WHEN v.column4 THEN %s ELSE NULL END, "
        "lease_expires_at = CASE WHEN v.column2 = %s THEN %s ELSE NULL END "
        f"FROM ({source}) AS v "
        f"WHERE {table}.id = v.column1 AND {table}.state = %s RETURNING {table}.id"
    )
    adapt = connection.ops.adapt_datetimefield_value
    at, accepted = adapt(now), Delivery.State.ACCEPTED
    params = [accepted, at, at, accepted, adapt(outcome_due), *values, from_state]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk for (pk,) in cursor.fetchall()}


def outcome_timeout(kind: str) -> timedelta:
    return timedelta(seconds=settings.HERALD_OUTCOME_TIMEOUT.get(kind, 3600))


def record_answers(*, channel_id: int, kind: str, answers: list[tuple[Outgoing, Answer]]) -> None:
    if not answers:
        return
    rows = [answer_row(kind, message, answer) for message, answer in answers]
    now = timezone.now()
    due = now + outcome_timeout(kind)
    with transaction.atomic():
        channel = (
            Channel.objects.select_for_update(no_key=True)
            .only("outcome_counts")
            .get(pk=channel_id)
        )
        answered = update_deliveries(
            rows, from_state=Delivery.State.SENDING, now=now, outcome_due=due
        )
        late = []
        if len(answered) != len(rows):
            late = settle_late_answers(
                [row for row in rows if row[0] not in answered], now=now, outcome_due=due
            )
        counts = Counter(channel.outcome_counts)
        counts.update(row[2] for row in rows if row[0] in answered and row[2])
        counts.update(row[2] for row in late if row[2])
        finished = [row for row in rows if row[0] in answered and row[1] != "accepted"]
        reopened = [row for row in late if row[1] == Delivery.State.ACCEPTED]
        Channel.objects.filter(pk=channel_id).update(
            in_flight=models.F("in_flight") - len(finished) + len(reopened),
            processed=models.F("processed") + len(finished) - len(reopened),
            interrupted=models.F("interrupted") - len(late),
            converted=models.F("converted") + sum(1 for row in finished + late if row[3]),
            outcome_counts=dict(counts),
        )
    store_details(answers)
    if any(isinstance(answer, RateLimited) for _, answer in answers):
        pause = timedelta(seconds=option("rate_limit_pause"))
        Channel.objects.filter(pk=channel_id).update(throttled_until=timezone.now() + pause)
        log.warning("channel %s: the provider answered 429; no send for %s", channel_id, pause)
    if any(row[1] == Delivery.State.FAILED for row in rows):
        pause_if_failing(channel_id=channel_id)


def pause_if_failing(*, channel_id: int) -> bool:
    """Pause a channel whose provider failed more than the threshold of its recent sends.

    Instead of burning through the list with a broken provider (a revoked key, a suspended
    account), the channel stops itself and says why; the manager resumes it once fixed.
    """
    threshold, window = option("error_threshold"), option("error_window")
    recent = list(
        Delivery.objects.filter(channel_id=channel_id)
        .exclude(state=Delivery.State.SKIPPED)
        .order_by("-created_at", "-pk")
        .values_list("state", "error")[:window]
    )
    failed = [error for state, error in recent if state == Delivery.State.FAILED]
    if not threshold or len(recent) < window or len(failed) <= threshold * len(recent):
        return False
    reason = (
        f"Paused by Herald: {len(failed)} of the last {len(recent)} sends failed at the "
        f"provider. Last error: {failed[0][:150]}"
    )
    try:
        Channel.objects.get(pk=channel_id).pause(reason=reason)
    except InvalidTransition:
        return False  # paused, stopped or completed meanwhile
    log.warning("channel %s: %s", channel_id, reason)
    return True


def settle_late_answers(rows: list[tuple], *, now, outcome_due) -> list[tuple]:
    """Answers to claims no longer `sending`, inside record_answers' lock; returns the rows
    recorded over an `interrupted` claim.

    Either the claim outlived its lease and was declared interrupted before its answer came
    (the answer is still the truth: record it), or the provider's event outran the answer
    and already settled the delivery, and counted it (keep what the event said; only note
    the provider's id).
    """
    late = update_deliveries(
        rows, from_state=Delivery.State.INTERRUPTED, now=now, outcome_due=outcome_due
    )
    for delivery_id, _state, _outcome, _converted, provider_id, _error in rows:
        if delivery_id not in late and provider_id:
            Delivery.objects.filter(pk=delivery_id, provider_id="").update(provider_id=provider_id)
    return [row for row in rows if row[0] in late]


def store_details(answers: list[tuple[Outgoing, Answer]]) -> None:
    """What a provider reported with its answer (rare for a synchronous answer)."""
    for message, answer in answers:
        if isinstance(answer, ProviderResult | Accepted) and answer.details:
            Delivery.objects.filter(pk=message.delivery_id).update(details=answer.details)


def recount(*, channel_id: int) -> None:
    """Set every counter from the ledger (inside the caller's transaction and lock)."""
    by_state = dict(
        Delivery.objects.filter(channel_id=channel_id)
        .values_list("state")
        .annotate(n=models.Count("id"))
        .values_list("state", "n")
    )
    outcomes = dict(
        Delivery.objects.filter(channel_id=channel_id)
        .exclude(outcome="")
        .values_list("outcome")
        .annotate(n=models.Count("id"))
        .values_list("outcome", "n")
    )
    in_flight = sum(by_state.get(state, 0) for state in Delivery.IN_FLIGHT_STATES)
    calls = Delivery.objects.filter(channel_id=channel_id).aggregate(n=models.Sum("attempts"))
    CounterDelta.objects.filter(channel_id=channel_id).delete()  # the ledger says it all
    Channel.objects.filter(pk=channel_id).update(
        in_flight=in_flight,
        processed=sum(by_state.values()) - in_flight,
        skipped=by_state.get(Delivery.State.SKIPPED, 0),
        interrupted=by_state.get(Delivery.State.INTERRUPTED, 0),
        converted=Delivery.objects.filter(channel_id=channel_id, converted=True).count(),
        retries=(calls["n"] or 0) - sum(by_state.values()),
        outcome_counts=outcomes,
    )
