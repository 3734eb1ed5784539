"""The engine: works a running channel through its audience, at most once per contact.

How the guarantees of SPEC section 4 are kept:

- G1 at most once. A contact is claimed by inserting its delivery row (state `sending`) and
  committing before the provider is called; the (channel, contact) unique constraint backs
  it, and each claim filters out contacts that already have a row.
- G2 strict pause. Every claim runs in a transaction that first locks the channel row and
  checks that it is still Running (and that this task chain is still current). Pause and
  Stop update that row under the same lock, so once they return no claim can follow.
- G3 nothing lost. Claims and answers change the channel's counters in the same
  transaction as the ledger rows. A late answer to a claim already declared interrupted is
  still recorded, and counted as what it changed.
- G4 crash safe. A claim carries a lease; the supervisor (and idle lanes) turn claims whose
  lease ran out into `interrupted`, and wake channels no live task chain serves.
- G5 it finishes. When the audience is exhausted and nothing is in flight, the ledger is
  checked against the audience and the channel completed.
- G7 pacing. Each claim counts the channel's claims of the last second in the ledger (under
  the channel lock, so across workers) and, for voice, the calls in flight.

Work is chunked: a task (`channels.tasks.dispatch_channel`) works one channel for a time
slice and then enqueues its continuation, so channels share workers fairly. A running
channel has `lanes` such chains, so several workers can share one channel; `wake` starts a
new generation of chains and any older chain ends itself at its next claim.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from campaigns.models import Contact

from . import events, windows
from .content import content_for
from .models import (
    AudienceMember,
    Channel,
    CounterDelta,
    Delivery,
    EngineLease,
    InvalidTransition,
)
from .providers import (
    Accepted,
    Answer,
    Outgoing,
    Provider,
    ProviderResult,
    RateLimited,
    provider_for,
)

log = logging.getLogger("herald.dispatch")

SUPERVISOR = "supervisor"
PACING_WINDOW = timedelta(seconds=1)


def option(name: str):
    return settings.HERALD_ENGINE[name]


# -- waking and supervising ------------------------------------------------------------------


def wake(*, channel_id: int) -> None:
    """Start a fresh generation of task chains for a running channel."""
    from . import tasks

    with transaction.atomic():
        woken = Channel.objects.filter(pk=channel_id, status=Channel.Status.RUNNING).update(
            dispatch_generation=models.F("dispatch_generation") + 1,
            lane_heartbeats={str(lane): time.time() for lane in range(option("lanes"))},
        )
        if not woken:
            return
        generation = Channel.objects.values_list("dispatch_generation", flat=True).get(
            pk=channel_id
        )
        # A fresh start or resume jumps the queue of other channels' continuations, so the
        # first contact goes out within one slice whatever else runs (SPEC section 8).
        first_slice = tasks.dispatch_channel.using(priority=tasks.WAKE_PRIORITY)
        for lane in range(option("lanes")):
            first_slice.enqueue(channel_id, generation, lane)
    ensure_supervisor()


def ensure_supervisor() -> None:
    """Enqueue a supervisor chain unless a live one holds the lease."""
    from . import tasks

    lease = EngineLease.objects.filter(name=SUPERVISOR).first()
    if lease is None or lease.expires_at <= timezone.now():
        tasks.supervise.enqueue(uuid.uuid4().hex)


def supervise(*, token: str) -> bool:
    """One supervisor tick; returns whether the chain goes on (something still runs)."""
    from . import scheduling, tasks

    interval = option("supervisor_seconds")
    # Schedules that came due while no worker ran start now (saying how late).
    scheduling.start_due()
    now = timezone.now()
    with transaction.atomic():
        lease, _ = EngineLease.objects.select_for_update().get_or_create(
            name=SUPERVISOR, defaults={"token": token, "expires_at": now}
        )
        if lease.token != token and lease.expires_at > now:
            return False  # another chain supervises
        # Stopped and paused channels still have calls and messages out: their outcomes and
        # timeouts need a supervisor as much as running channels do.
        running = list(
            Channel.objects.filter(
                models.Q(status=Channel.Status.RUNNING) | models.Q(in_flight__gt=0)
            ).values_list("pk")
        )
        lease.token = token
        lease.expires_at = now + timedelta(seconds=interval * 3) if running else now
        lease.save()
        if running:
            # The successor is enqueued in the same transaction as the lease: a worker killed
            # during this tick leaves the chain alive.
            tasks.supervise.using(
                run_after=now + timedelta(seconds=interval), priority=tasks.SUPERVISOR_PRIORITY
            ).enqueue(token)
    for (channel_id,) in running:
        events.fold(channel_id=channel_id)
        sweep_expired(channel_id=channel_id)
        close_overdue(channel_id=channel_id)
        complete_if_done(channel_id=channel_id)
        if lost_lanes(channel_id):
            log.warning("channel %s lost a task chain (a worker died); waking it", channel_id)
            wake(channel_id=channel_id)
    return bool(running)


def lost_lanes(channel_id: int) -> list[str]:
    """Lanes of a running channel that have not claimed for longer than a lease."""
    channel = Channel.objects.filter(pk=channel_id, status=Channel.Status.RUNNING).first()
    if channel is None:
        return []
    stale = time.time() - max(option("lease_seconds"), 3 * option("slice_seconds"))
    beats = channel.lane_heartbeats
    return [str(n) for n in range(option("lanes")) if beats.get(str(n), 0) < stale]


# -- claiming --------------------------------------------------------------------------------

CONTACT_COLUMNS = (
    "contact__name",
    "contact__phone",
    "contact__email",
    "contact__timezone",
    "contact__attributes",
    "contact__opted_out_voice",
    "contact__opted_out_sms",
    "contact__opted_out_email",
)
OPT_OUT_COLUMN = {kind: f"contact__{field}" for kind, field in Contact.OPT_OUT_FIELDS.items()}


@dataclass
class Claim:
    running: bool
    to_send: list[Outgoing] = field(default_factory=list)
    skipped: int = 0
    exhausted: bool = False
    in_flight: int = 0
    # When nothing could be claimed for pacing: seconds until there is room again.
    retry_in: float = 0.0


def audience_rows(channel: Channel) -> models.QuerySet:
    """The run's audience rows (memberships, or a remarketing channel's members)."""
    from campaigns.models import Membership

    if channel.is_remarketing:
        return AudienceMember.objects.filter(channel_id=channel.pk)
    return Membership.objects.filter(
        contact_list_id=channel.campaign.contact_list_id, id__lte=channel.audience_cutoff
    )


def audience_after(channel: Channel, *, cursor: int, limit: int) -> list[dict]:
    """The next audience rows past `cursor`, in id order, with what a send needs."""
    return list(
        audience_rows(channel)
        .filter(id__gt=cursor)
        .order_by("id")
        .values("id", "contact_id", *CONTACT_COLUMNS)[:limit]
    )


def claimable_rows(channel: Channel, *, limit: int) -> windows.Picked:
    """The rows a claim may take now: past the cursor, or, with a sending window, those
    of the zone keys inside it (channels/windows.py)."""
    if channel.window.any_time:
        rows = audience_after(channel, cursor=channel.claim_cursor, limit=limit)
        changes = {"claim_cursor": rows[-1]["id"]} if rows else {}
        return windows.Picked(rows, changes, exhausted=not rows)
    return windows.pick(
        channel, audience_rows(channel), columns=CONTACT_COLUMNS, now=windows.clock(), limit=limit
    )


NEVER_IN_WINDOW = (
    "No hour of the sending window is inside it in every time zone its number may be in."
)


def skip_reason(channel: Channel, row: dict) -> str:
    if row[OPT_OUT_COLUMN[channel.kind]]:
        return f"Opted out of {Channel.Kind(channel.kind).label}."
    if not row[f"contact__{channel.address_field}"]:
        return f"No {channel.address_field} to reach."
    return ""


def claim_batch(*, channel_id: int, generation: int, limit: int, lane: int = 0) -> Claim:
    """Claim up to `limit` contacts, committed before any of them reaches a provider."""
    with transaction.atomic():
        channel = (
            Channel.objects.select_for_update(of=("self",), no_key=True)
            .select_related("campaign")
            .filter(pk=channel_id)
            .first()
        )
        if (
            channel is None
            or channel.status != Channel.Status.RUNNING
            or channel.dispatch_generation != generation
        ):
            return Claim(running=False)
        now = timezone.now()
        alive = {"lane_heartbeats": {**channel.lane_heartbeats, str(lane): time.time()}}
        recent, oldest = recent_claims(channel_id, now=now)
        room = min(limit, channel.max_per_second - recent)
        retry_in = (oldest + PACING_WINDOW - now).total_seconds() if oldest else 0.0
        if channel.throttled_until and channel.throttled_until > now:
            room = 0  # the provider said 429: wait it out
            retry_in = max(retry_in, (channel.throttled_until - now).total_seconds())
        elif channel.kind == Channel.Kind.AI_VOICE and channel.in_flight >= channel.max_concurrent:
            room = 0
            retry_in = max(retry_in, CALL_POLL)  # room comes when a call ends
        elif channel.kind == Channel.Kind.AI_VOICE:
            room = min(room, channel.max_concurrent - channel.in_flight)
        if room <= 0:
            Channel.objects.filter(pk=channel_id).update(**alive)
            return Claim(
                running=True, in_flight=channel.in_flight, retry_in=max(retry_in, IDLE_WAIT)
            )
        picked = claimable_rows(channel, limit=room)
        rows = picked.rows
        if not rows:
            Channel.objects.filter(pk=channel_id).update(**alive, **picked.changes)
            if picked.wait is not None:
                return Claim(running=True, in_flight=channel.in_flight, retry_in=picked.wait)
            return Claim(running=True, exhausted=True, in_flight=channel.in_flight)
        already = set(
            Delivery.objects.filter(
                channel_id=channel_id, contact_id__in=[row["contact_id"] for row in rows]
            ).values_list("contact_id", flat=True)
        )
        lease_until = now + timedelta(seconds=option("lease_seconds"))
        sends: list[dict] = []
        skips: list[tuple] = []
        for row in rows:
            if row["contact_id"] in already:
                continue
            if row.get("contact__zone_key") in picked.never:
                skips.append(
                    (row["contact_id"], Delivery.State.SKIPPED, NEVER_IN_WINDOW, now, now, None)
                )
            elif reason := skip_reason(channel, row):
                skips.append((row["contact_id"], Delivery.State.SKIPPED, reason, now, now, None))
            else:
                sends.append(row)
        sending = [
            (row["contact_id"], Delivery.State.SENDING, "", now, None, lease_until)
            for row in sends
        ]
        ids = insert_deliveries(channel_id, sending + skips)
        Channel.objects.filter(pk=channel_id).update(
            **picked.changes,
            in_flight=models.F("in_flight") + len(sends),
            processed=models.F("processed") + len(skips),
            skipped=models.F("skipped") + len(skips),
            **alive,
        )
    to = f"contact__{channel.address_field}"
    return Claim(
        running=True,
        skipped=len(skips),
        in_flight=channel.in_flight + len(sends),
        to_send=[
            Outgoing(
                delivery_id=ids[row["contact_id"]],
                channel_id=channel_id,
                contact_id=row["contact_id"],
                kind=channel.kind,
                to=row[to],
                content=content_for(channel, row),
            )
            for row in sends
        ],
    )


def insert_deliveries(channel_id: int, rows: list[tuple]) -> dict[int, int]:
    """Insert (contact, state, error, created, finished, lease) rows in one statement.

    Cheaper than building model instances for bulk_create; returns contact id -> delivery id.
    """
    if not rows:
        return {}
    adapt = connection.ops.adapt_datetimefield_value
    table = Delivery._meta.db_table
    sql = (
        f"INSERT INTO {table} (channel_id, contact_id, state, error, created_at, "  # noqa: S608
        "finished_at, lease_expires_at, outcome, converted, provider_id, details) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, '', %s, '', '{}')"] * len(rows))
        + " RETURNING id, contact_id"
    )
    params: list = []
    for contact_id, state, error, created, finished, lease in rows:
        params += [
            channel_id,
            contact_id,
            state,
            error,
            adapt(created),
            adapt(finished),
            adapt(lease),
            False,
        ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {contact_id: pk for pk, contact_id in cursor.fetchall()}


def recent_claims(channel_id: int, *, now) -> tuple[int, object]:
    """Claims handed to the provider in the last second (skips never reach a provider), and
    when the oldest of them was made."""
    window = (
        Delivery.objects.filter(channel_id=channel_id, created_at__gte=now - PACING_WINDOW)
        .exclude(state=Delivery.State.SKIPPED)
        .aggregate(count=models.Count("id"), oldest=models.Min("created_at"))
    )
    return window["count"], window["oldest"]


# -- answers ---------------------------------------------------------------------------------


def answer_row(kind: str, message: Outgoing, answer: Answer) -> tuple:
    """(delivery id, state, outcome, converted, provider id, error) for one answer."""
    failed = (message.delivery_id, Delivery.State.FAILED, "failed", False, "")
    if isinstance(answer, BaseException):
        return (*failed, f"{type(answer).__name__}: {answer}"[:1000])
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
    # Only placeholders and our own table name are formatted into the statement. VALUES
    # columns are named column1, column2, ... on both SQLite and PostgreSQL.
    table = Delivery._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"UPDATE {table} SET state = v.column2, outcome = v.column3, "  # noqa: S608
        "converted = v.column4, provider_id = v.column5, error = v.column6, "
        "finished_at = CASE WHEN v.column2 = %s THEN NULL ELSE %s END, "
        "converted_at = CASE WHEN v.column4 THEN %s ELSE NULL END, "
        "lease_expires_at = CASE WHEN v.column2 = %s THEN %s ELSE NULL END "
        f"FROM (VALUES {values}) AS v "
        f"WHERE {table}.id = v.column1 AND {table}.state = %s RETURNING {table}.id"
    )
    adapt = connection.ops.adapt_datetimefield_value
    at, accepted = adapt(now), Delivery.State.ACCEPTED
    params = [accepted, at, at, accepted, adapt(outcome_due)]
    params += [*(value for row in rows for value in row), from_state]
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
    CounterDelta.objects.filter(channel_id=channel_id).delete()  # the ledger says it all
    Channel.objects.filter(pk=channel_id).update(
        in_flight=in_flight,
        processed=sum(by_state.values()) - in_flight,
        skipped=by_state.get(Delivery.State.SKIPPED, 0),
        interrupted=by_state.get(Delivery.State.INTERRUPTED, 0),
        converted=Delivery.objects.filter(channel_id=channel_id, converted=True).count(),
        outcome_counts=outcomes,
    )


def sweep_expired(*, channel_id: int) -> int:
    """Turn claims whose lease ran out into `interrupted` (counted, never re-sent)."""
    now = timezone.now()
    with transaction.atomic():
        Channel.objects.select_for_update(no_key=True).filter(pk=channel_id).values_list(
            "pk"
        ).first()
        stranded = Delivery.objects.filter(
            channel_id=channel_id, state=Delivery.State.SENDING, lease_expires_at__lt=now
        ).update(
            state=Delivery.State.INTERRUPTED,
            finished_at=now,
            lease_expires_at=None,
            error="Interrupted: the worker handling it stopped before the provider answered.",
        )
        if stranded:
            log.warning(
                "channel %s: %s claims interrupted after their lease", channel_id, stranded
            )
            Channel.objects.filter(pk=channel_id).update(
                in_flight=models.F("in_flight") - stranded,
                processed=models.F("processed") + stranded,
                interrupted=models.F("interrupted") + stranded,
            )
    return stranded


def close_overdue(*, channel_id: int) -> int:
    """Close accepted deliveries whose final event never came (SPEC G4).

    They keep their last known outcome (`sent`); a call with none is failed.
    """
    now = timezone.now()
    note = "No final report from the provider in time; closed with its last known outcome."
    with transaction.atomic():
        channel = (
            Channel.objects.select_for_update(no_key=True)
            .only("outcome_counts")
            .get(pk=channel_id)
        )
        overdue = Delivery.objects.filter(
            channel_id=channel_id, state=Delivery.State.ACCEPTED, lease_expires_at__lt=now
        )
        closing = {"finished_at": now, "lease_expires_at": None, "error": note}
        unknown = overdue.filter(outcome="").update(
            state=Delivery.State.FAILED, outcome="failed", **closing
        )
        known = overdue.update(state=Delivery.State.DONE, **closing)
        if not unknown + known:
            return 0
        log.warning(
            "channel %s: %s deliveries closed without a final event", channel_id, unknown + known
        )
        counts = dict(channel.outcome_counts)
        if unknown:
            counts["failed"] = counts.get("failed", 0) + unknown
        Channel.objects.filter(pk=channel_id).update(
            in_flight=models.F("in_flight") - (unknown + known),
            processed=models.F("processed") + (unknown + known),
            outcome_counts=counts,
        )
    return unknown + known


def unreached_audience(channel: Channel) -> models.QuerySet:
    """Audience contacts without a delivery: empty once a run is really finished."""
    return channel.audience_contact_ids().exclude(
        contact_id__in=Delivery.objects.filter(channel_id=channel.pk).values("contact_id")
    )


def complete_if_done(*, channel_id: int) -> bool:
    """Complete a running channel once its counters say every contact is finished.

    Called when a provider event settles a delivery and on every supervisor tick: a channel
    whose last contacts were accepted completes when their outcomes arrive, with no task
    chain waiting for them.
    """
    done = Channel.objects.filter(
        pk=channel_id,
        status=Channel.Status.RUNNING,
        in_flight=0,
        processed__gte=models.F("audience_size"),
    ).exists()
    return done and try_complete(channel_id=channel_id)


def try_complete(*, channel_id: int) -> bool:
    channel = Channel.objects.select_related("campaign").get(pk=channel_id)
    if channel.status != Channel.Status.RUNNING or channel.in_flight:
        return False
    if unreached_audience(channel).exists():
        # The cursor walked past someone (it should not): walk the audience again; the
        # ledger keeps those already contacted from being contacted twice.
        log.error("channel %s: audience not exhausted at the end; rewalking", channel_id)
        Channel.objects.filter(pk=channel_id).update(
            claim_cursor=0, zone_cursors={}, audience_zones=None
        )
        return False
    try:
        channel.complete()
    except InvalidTransition:
        return False  # paused or stopped meanwhile
    return True


# -- the slice -------------------------------------------------------------------------------

IDLE_WAIT = 0.05
# How often a voice channel at its max concurrent calls looks again for a call that ended.
CALL_POLL = 0.25
# How often a lane whose audience is exhausted looks again while claims are still sending.
DRAIN_POLL = 0.2

# A slice says when its chain goes on: `None` ends it, a number of seconds continues it
# after that delay (0: at once). Waiting happens in the task queue, not in a worker, so a
# paced channel never holds a worker that another channel could use.
Continue = float | None


def run_slice(*, channel_id: int, generation: int, lane: int = 0) -> Continue:
    """Work on a channel for one time slice; returns when its chain should go on."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or channel.status != Channel.Status.RUNNING:
        return None
    provider = provider_for(channel.kind)
    # A slice ends by waiting for its sends in flight; for slow providers make it long
    # enough that this drain costs little throughput.
    deadline = time.monotonic() + max(option("slice_seconds"), 10 * provider.latency)
    if channel.kind == Channel.Kind.AI_VOICE and provider.latency:
        threads = channel.max_concurrent
    else:
        threads = option("send_threads") if provider.latency else 0
    lane_claim = partial(claim_batch, channel_id=channel_id, generation=generation, lane=lane)
    if threads:
        return run_concurrent(channel, provider, lane_claim, threads, deadline)
    return run_inline(channel, provider, lane_claim, deadline)


def finish_or_wait(channel_id: int) -> Continue:
    """The audience is exhausted: complete, or say when to look again.

    Claims still `sending` (another lane's, or a dead worker's until their lease ends) are
    waited for; accepted ones are not: their provider events complete the channel.
    """
    sweep_expired(channel_id=channel_id)
    if try_complete(channel_id=channel_id):
        return None
    sending = Delivery.objects.filter(
        channel_id=channel_id,
        state=Delivery.State.SENDING,
        channel__status=Channel.Status.RUNNING,
    )
    return DRAIN_POLL if sending.exists() else None


def run_inline(channel: Channel, provider: Provider, claim_next, deadline: float) -> Continue:
    """For fast providers: claim a batch, send it in this thread, record it."""
    batch = option("batch_size")
    while time.monotonic() < deadline:
        claim = claim_next(limit=batch)
        if not claim.running:
            return None
        if claim.to_send:
            answers = list(zip(claim.to_send, provider.send_many(claim.to_send), strict=True))
            record_answers(channel_id=channel.pk, kind=channel.kind, answers=answers)
        elif claim.exhausted:
            return finish_or_wait(channel.pk)
        elif not claim.skipped:
            return claim.retry_in  # paced: go on when the one-second window has room
    return 0.0


def run_concurrent(
    channel: Channel, provider: Provider, claim_next, threads: int, deadline: float
) -> Continue:
    """For slow providers: keep up to `threads` sends in flight in this worker."""
    batch = option("batch_size")
    pending: dict[Future, Outgoing] = {}
    then: Continue = 0.0
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="herald-send") as pool:
        claiming = True
        while claiming or pending:
            done = [future for future in pending if future.done()]
            if done:
                answers = [(pending.pop(future), future.result()) for future in done]
                record_answers(channel_id=channel.pk, kind=channel.kind, answers=answers)
            if claiming and time.monotonic() >= deadline:
                claiming = False
            room = threads - len(pending)
            if claiming and room > 0:
                claim = claim_next(limit=min(batch, room))
                for message in claim.to_send:
                    pending[pool.submit(provider.try_send, message)] = message
                if not claim.running:
                    claiming, then = False, None
                elif claim.exhausted and not pending:
                    claiming, then = False, finish_or_wait(channel.pk)
                elif not claim.to_send and not claim.skipped and not pending:
                    claiming, then = False, claim.retry_in
            if pending:
                wait(pending, timeout=IDLE_WAIT, return_when=FIRST_COMPLETED)
            elif claiming:
                time.sleep(IDLE_WAIT)
    return then


def run_until_idle(*, channel_id: int, timeout: float = 120.0) -> Channel:
    """Work a channel in this process until its chain would end (seed data, tests)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        generation = Channel.objects.values_list("dispatch_generation", flat=True).get(
            pk=channel_id
        )
        then = run_slice(channel_id=channel_id, generation=generation)
        if then is None:
            break
        time.sleep(min(then, max(0.0, end - time.monotonic())))
    return Channel.objects.get(pk=channel_id)
