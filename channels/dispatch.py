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
  still recorded, and the counters are then recounted from the ledger.
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

from .models import (
    AudienceMember,
    Channel,
    Delivery,
    EngineLease,
    InvalidTransition,
    render_template,
)
from .providers import Outgoing, Provider, ProviderResult, provider_for

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
            heartbeat_at=timezone.now(),
            lane_heartbeats={str(lane): time.time() for lane in range(option("lanes"))},
        )
        if not woken:
            return
        generation = Channel.objects.values_list("dispatch_generation", flat=True).get(
            pk=channel_id
        )
        for lane in range(option("lanes")):
            tasks.dispatch_channel.enqueue(channel_id, generation, lane)
    ensure_supervisor()


def ensure_supervisor() -> None:
    """Enqueue a supervisor chain unless a live one holds the lease."""
    from . import tasks

    lease = EngineLease.objects.filter(name=SUPERVISOR).first()
    if lease is None or lease.expires_at <= timezone.now():
        tasks.supervise.enqueue(uuid.uuid4().hex)


def supervise(*, token: str) -> bool:
    """One supervisor tick; returns whether the chain goes on (something still runs)."""
    from . import tasks

    interval = option("supervisor_seconds")
    now = timezone.now()
    with transaction.atomic():
        lease, _ = EngineLease.objects.select_for_update().get_or_create(
            name=SUPERVISOR, defaults={"token": token, "expires_at": now}
        )
        if lease.token != token and lease.expires_at > now:
            return False  # another chain supervises
        running = list(Channel.objects.filter(status=Channel.Status.RUNNING).values_list("pk"))
        lease.token = token
        lease.expires_at = now + timedelta(seconds=interval * 3) if running else now
        lease.save()
        if running:
            # The successor is enqueued in the same transaction as the lease: a worker killed
            # during this tick leaves the chain alive.
            tasks.supervise.using(run_after=now + timedelta(seconds=interval)).enqueue(token)
    for (channel_id,) in running:
        sweep_expired(channel_id=channel_id)
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


def audience_after(channel: Channel, *, cursor: int, limit: int) -> list[dict]:
    """The next audience rows past `cursor`, in id order, with what a send needs."""
    from campaigns.models import Membership

    if channel.is_remarketing:
        rows = AudienceMember.objects.filter(channel_id=channel.pk)
    else:
        rows = Membership.objects.filter(
            contact_list_id=channel.campaign.contact_list_id, id__lte=channel.audience_cutoff
        )
    return list(
        rows.filter(id__gt=cursor)
        .order_by("id")
        .values("id", "contact_id", *CONTACT_COLUMNS)[:limit]
    )


def content_for(channel: Channel, row: dict) -> dict[str, str]:
    name = row["contact__name"] or ""
    values = {
        **(row["contact__attributes"] or {}),
        "name": name,
        "first_name": name.split(" ", 1)[0],
        "last_name": name.split(" ", 1)[1] if " " in name else "",
        "phone": row["contact__phone"],
        "email": row["contact__email"],
        "timezone": row["contact__timezone"],
    }
    if channel.kind == Channel.Kind.AI_VOICE:
        return {
            "script": render_template(channel.voice_script, values),
            "caller_id": channel.caller_id,
        }
    if channel.kind == Channel.Kind.SMS:
        return {
            "text": render_template(channel.sms_template, values),
            "sender": channel.sms_sender,
        }
    return {
        "subject": render_template(channel.email_subject, values),
        "body": render_template(channel.email_body, values),
        "from": channel.email_from,
    }


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
            Channel.objects.select_for_update(of=("self",))
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
        alive = {
            "heartbeat_at": now,
            "lane_heartbeats": {**channel.lane_heartbeats, str(lane): time.time()},
        }
        room = min(limit, channel.max_per_second - recent_claims(channel_id, now=now))
        if channel.kind == Channel.Kind.AI_VOICE:
            room = min(room, channel.max_concurrent - channel.in_flight)
        if room <= 0:
            Channel.objects.filter(pk=channel_id).update(**alive)
            return Claim(running=True, in_flight=channel.in_flight)
        rows = audience_after(channel, cursor=channel.claim_cursor, limit=room)
        if not rows:
            Channel.objects.filter(pk=channel_id).update(**alive)
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
            if reason := skip_reason(channel, row):
                skips.append((row["contact_id"], Delivery.State.SKIPPED, reason, now, now, None))
            else:
                sends.append(row)
        sending = [
            (row["contact_id"], Delivery.State.SENDING, "", now, None, lease_until)
            for row in sends
        ]
        ids = insert_deliveries(channel_id, sending + skips)
        Channel.objects.filter(pk=channel_id).update(
            claim_cursor=rows[-1]["id"],
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
        "finished_at, lease_expires_at, outcome, converted, provider_id) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, '', %s, '')"] * len(rows))
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


def recent_claims(channel_id: int, *, now) -> int:
    """Claims handed to the provider in the last second (skips never reach a provider)."""
    return (
        Delivery.objects.filter(channel_id=channel_id, created_at__gte=now - PACING_WINDOW)
        .exclude(state=Delivery.State.SKIPPED)
        .count()
    )


# -- answers ---------------------------------------------------------------------------------

Answer = ProviderResult | BaseException


def call(provider: Provider, message: Outgoing) -> Answer:
    try:
        return provider.send(message)
    except Exception as exc:  # any provider failure is a failed delivery, never a dead worker
        return exc


def finish_rows(kind: str, answers: list[tuple[Outgoing, Answer]]) -> list[tuple]:
    rows = []
    allowed = Channel.OUTCOMES[kind]
    for message, answer in answers:
        if isinstance(answer, BaseException):
            error = f"{type(answer).__name__}: {answer}"[:1000]
            rows.append((message.delivery_id, Delivery.State.FAILED, "failed", False, "", error))
        elif answer.outcome not in allowed:
            error = f"Provider answered an unknown outcome {answer.outcome!r}."
            rows.append((message.delivery_id, Delivery.State.FAILED, "failed", False, "", error))
        else:
            rows.append(
                (
                    message.delivery_id,
                    Delivery.State.DONE,
                    answer.outcome,
                    bool(answer.converted),
                    answer.provider_id[:100],
                    "",
                )
            )
    return rows


def update_deliveries(rows: list[tuple], *, from_state: str, now) -> int:
    """One UPDATE for the whole batch, touching only rows still in `from_state`."""
    # Only placeholders and our own table name are formatted into the statement. VALUES
    # columns are named column1, column2, ... on both SQLite and PostgreSQL.
    table = Delivery._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"UPDATE {table} SET state = v.column2, outcome = v.column3, "  # noqa: S608
        "converted = v.column4, provider_id = v.column5, error = v.column6, "
        "finished_at = %s, converted_at = CASE WHEN v.column4 THEN %s ELSE NULL END, "
        f"lease_expires_at = NULL FROM (VALUES {values}) AS v "
        f"WHERE {table}.id = v.column1 AND {table}.state = %s"
    )
    at = connection.ops.adapt_datetimefield_value(now)
    params = [at, at, *(value for row in rows for value in row), from_state]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def record_answers(*, channel_id: int, kind: str, answers: list[tuple[Outgoing, Answer]]) -> None:
    if not answers:
        return
    rows = finish_rows(kind, answers)
    now = timezone.now()
    with transaction.atomic():
        channel = Channel.objects.select_for_update().only("outcome_counts").get(pk=channel_id)
        updated = update_deliveries(rows, from_state=Delivery.State.SENDING, now=now)
        if updated != len(rows):
            # Some claims outlived their lease and were declared interrupted before their
            # answer came. The answer is still the truth: record it, then recount.
            update_deliveries(rows, from_state=Delivery.State.INTERRUPTED, now=now)
            recount(channel_id=channel_id)
            return
        counts = dict(channel.outcome_counts)
        for outcome, count in Counter(row[2] for row in rows).items():
            counts[outcome] = counts.get(outcome, 0) + count
        Channel.objects.filter(pk=channel_id).update(
            in_flight=models.F("in_flight") - len(rows),
            processed=models.F("processed") + len(rows),
            converted=models.F("converted") + sum(1 for row in rows if row[3]),
            outcome_counts=counts,
        )


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
    in_flight = by_state.get(Delivery.State.SENDING, 0)
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
        Channel.objects.select_for_update().filter(pk=channel_id).values_list("pk").first()
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


def unreached_audience(channel: Channel) -> models.QuerySet:
    """Audience contacts without a delivery: empty once a run is really finished."""
    return channel.audience_contact_ids().exclude(
        contact_id__in=Delivery.objects.filter(channel_id=channel.pk).values("contact_id")
    )


def try_complete(*, channel_id: int) -> bool:
    channel = Channel.objects.select_related("campaign").get(pk=channel_id)
    if channel.status != Channel.Status.RUNNING or channel.in_flight:
        return False
    if unreached_audience(channel).exists():
        # The cursor walked past someone (it should not): walk the audience again; the
        # ledger keeps those already contacted from being contacted twice.
        log.error("channel %s: audience not exhausted at the end; rewalking", channel_id)
        Channel.objects.filter(pk=channel_id).update(claim_cursor=0)
        return False
    try:
        channel.complete()
    except InvalidTransition:
        return False  # paused or stopped meanwhile
    return True


# -- the slice -------------------------------------------------------------------------------

IDLE_WAIT = 0.05


def run_slice(*, channel_id: int, generation: int, lane: int = 0) -> bool:
    """Work on a channel for one time slice; returns whether its chain should go on."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or channel.status != Channel.Status.RUNNING:
        return False
    provider = provider_for(channel.kind)
    # A slice ends by waiting for its calls in flight; for slow providers make it long
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


def finish_or_wait(channel_id: int) -> bool:
    """The audience is exhausted: complete, or say whether in-flight claims remain."""
    sweep_expired(channel_id=channel_id)
    if try_complete(channel_id=channel_id):
        return False
    return Channel.objects.filter(pk=channel_id, status=Channel.Status.RUNNING).exists()


def run_inline(channel: Channel, provider: Provider, claim_next, deadline: float) -> bool:
    """For fast providers: claim a batch, send it in this thread, record it."""
    batch = option("batch_size")
    while time.monotonic() < deadline:
        claim = claim_next(limit=batch)
        if not claim.running:
            return False
        if claim.to_send:
            answers = [(message, call(provider, message)) for message in claim.to_send]
            record_answers(channel_id=channel.pk, kind=channel.kind, answers=answers)
        elif claim.exhausted:
            if not finish_or_wait(channel.pk):
                return False
            time.sleep(IDLE_WAIT * 2)
        elif not claim.skipped:
            time.sleep(IDLE_WAIT)  # paced: wait for the one-second window to move
    return True


def run_concurrent(
    channel: Channel, provider: Provider, claim_next, threads: int, deadline: float
) -> bool:
    """For slow providers (calls): keep up to `threads` sends in flight in this worker."""
    batch = option("batch_size")
    pending: dict[Future, Outgoing] = {}
    go_on = True
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
                if not claim.running:
                    claiming = go_on = False
                for message in claim.to_send:
                    pending[pool.submit(call, provider, message)] = message
                if claim.exhausted and not pending and not finish_or_wait(channel.pk):
                    claiming = go_on = False
            if pending:
                wait(pending, timeout=IDLE_WAIT, return_when=FIRST_COMPLETED)
            elif claiming:
                time.sleep(IDLE_WAIT)
    return go_on


def run_until_idle(*, channel_id: int, timeout: float = 120.0) -> Channel:
    """Work a channel in this process until its chain would end (seed data, tests)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        generation = Channel.objects.values_list("dispatch_generation", flat=True).get(
            pk=channel_id
        )
        if not run_slice(channel_id=channel_id, generation=generation):
            break
    return Channel.objects.get(pk=channel_id)
