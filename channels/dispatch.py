"""The engine: works a running channel through its audience, at most once per contact.

How the guarantees of SPEC section 4 are kept:

- G1 at most once. A contact is claimed by inserting its delivery row (state `sending`) and
  committing before the provider is called; the (channel, contact) unique constraint backs
  it, and each claim filters out contacts that already have a row. A voice channel's
  retries (channels/retries.py) are the one exception: the same claim takes a delivery
  whose call ended with a retry outcome back to `sending`, never one still in flight.
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
  the channel lock, so across workers; retries included) and, for voice, the calls in
  flight.

Claims and the slice loop live here; answers are recorded by `channels/answers.py`, and
`channels/supervisor.py` wakes chains, sweeps expired claims and completes channels (both
re-exported here, where the tasks and tests have always found them).

Work is chunked: a task (`channels.tasks.dispatch_channel`) works one channel for a time
slice and then enqueues its continuation, so channels share workers fairly. A running
channel has `lanes` such chains, so several workers can share one channel; `wake` starts a
new generation of chains and any older chain ends itself at its next claim.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.db import connection, models, transaction
from django.utils import timezone

from campaigns.models import Contact

from . import retries, windows
from .answers import (  # noqa: F401 (the engine's entry points, as callers know them)
    answer_row,
    outcome_timeout,
    pause_if_failing,
    record_answers,
    recount,
    update_deliveries,
)
from .bulk import rows_source
from .content import LazyContent
from .models import AudienceMember, Channel, Delivery
from .options import option
from .providers import Accepted, Outgoing, Provider, provider_for  # noqa: F401
from .supervisor import (  # noqa: F401
    close_overdue,
    complete_if_done,
    ensure_supervisor,
    lost_lanes,
    supervise,
    sweep_expired,
    try_complete,
    unreached_audience,
    wake,
)

log = logging.getLogger("herald.dispatch")

PACING_WINDOW = timedelta(seconds=1)

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
    # When this claim took the rest of the one-second window: seconds until there is room
    # again (the next claim would find none, so the slice need not ask).
    paced_for: float = 0.0


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
        if channel.max_per_second - (channel.processed + channel.in_flight) >= limit:
            # The last second's claims are at most every delivery so far: while those leave
            # room for a whole batch, the pace cannot bind, and the ledger need not be
            # counted (a count that grew with the rate, on every claim of a fast channel).
            recent, oldest = 0, None
        else:
            recent, oldest = recent_claims(channel, now=now)
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
        lease_until = now + timedelta(seconds=option("lease_seconds"))
        # Due retries first (they have waited longest), then new contacts in what room is left.
        recalled = retries.claim_due(
            channel, now=now, limit=room, lease_until=lease_until, columns=CONTACT_COLUMNS
        )
        room -= len(recalled)
        picked = claimable_rows(channel, limit=room) if room > 0 else windows.Picked([], {})
        rows = picked.rows
        if not rows and not recalled:
            Channel.objects.filter(pk=channel_id).update(**alive, **picked.changes)
            waits = [
                wait
                for wait in (picked.wait, retries.next_check(channel, now=now))
                if wait is not None
            ]
            if waits:
                return Claim(running=True, in_flight=channel.in_flight, retry_in=min(waits))
            return Claim(running=True, exhausted=True, in_flight=channel.in_flight)
        sends: list[dict] = []
        skips: list[tuple] = []
        for row in rows:
            if row.get("contact__zone_key") in picked.never:
                skips.append((row["contact_id"], Delivery.State.SKIPPED, NEVER_IN_WINDOW))
            elif reason := skip_reason(channel, row):
                skips.append((row["contact_id"], Delivery.State.SKIPPED, reason))
            else:
                sends.append(row)
        sending = [(row["contact_id"], Delivery.State.SENDING, "") for row in sends]
        ids = insert_deliveries(channel_id, sending + skips, now=now, lease_until=lease_until)
        # A contact that has its delivery already (the audience walked again) got no new row.
        sends = [row for row in sends if row["contact_id"] in ids]
        skips = [skip for skip in skips if skip[0] in ids]
        Channel.objects.filter(pk=channel_id).update(
            **picked.changes,
            **retries.counted(channel, recalled),
            in_flight=models.F("in_flight") + len(sends) + len(recalled),
            processed=models.F("processed") + len(skips) - len(recalled),
            skipped=models.F("skipped") + len(skips),
            **alive,
        )
    for row in sends:
        row["delivery_id"], row["attempt"] = ids[row["contact_id"]], 1
    to = f"contact__{channel.address_field}"
    claimed = len(sends) + len(recalled)
    window_full = claimed and claimed >= channel.max_per_second - recent
    return Claim(
        running=True,
        paced_for=(retry_in if oldest else PACING_WINDOW.total_seconds()) if window_full else 0,
        skipped=len(skips),
        in_flight=channel.in_flight + len(sends) + len(recalled),
        to_send=[
            Outgoing(
                delivery_id=row["delivery_id"],
                channel_id=channel_id,
                contact_id=row["contact_id"],
                kind=channel.kind,
                to=row[to],
                content=LazyContent(channel, row),  # rendered when the provider reads it
                attempt=row["attempt"],
            )
            for row in recalled + sends
        ],
    )


def insert_deliveries(
    channel_id: int, rows: list[tuple], *, now: datetime, lease_until: datetime
) -> dict[int, int]:
    """Insert (contact, state, error) rows made `now` in one statement, but none for a
    contact the channel has a delivery for (G1's unique constraint decides, so no query
    looks first). A `sending` row's lease runs to `lease_until`; any other (skipped) row
    is finished `now`.

    Cheaper than building model instances for bulk_create; returns contact id -> delivery id
    of the rows inserted.
    """
    if not rows:
        return {}
    source, params = rows_source(rows, ["bigint", "text", "text"])
    table = Delivery._meta.db_table
    # `details` is left to its database default. WHERE true: SQLite reads an ON CONFLICT
    # right after a FROM as part of a join.
    sql = (
        f"INSERT INTO {table} (channel_id, contact_id, state, error, created_at, "  # noqa: S608
        "finished_at, lease_expires_at, outcome, converted, provider_id) "
        "SELECT %s, v.column1, v.column2, v.column3, %s, "
        "CASE WHEN v.column2 = %s THEN NULL ELSE %s END, "
        "CASE WHEN v.column2 = %s THEN %s ELSE NULL END, "
        f"'', FALSE, '' FROM ({source}) AS v WHERE true "
        "ON CONFLICT (channel_id, contact_id) DO NOTHING RETURNING id, contact_id"
    )
    adapt = connection.ops.adapt_datetimefield_value
    at, sending = adapt(now), Delivery.State.SENDING
    with connection.cursor() as cursor:
        cursor.execute(sql, [channel_id, at, sending, at, sending, adapt(lease_until), *params])
        return {contact_id: pk for pk, contact_id in cursor.fetchall()}


def recent_claims(channel: Channel, *, now) -> tuple[int, object]:
    """Claims handed to the provider in the last second (skips never reach a provider), and
    when the oldest of them was made; a voice channel's retries count too."""
    window = (
        Delivery.objects.filter(channel_id=channel.pk, created_at__gte=now - PACING_WINDOW)
        .exclude(state=Delivery.State.SKIPPED)
        .aggregate(count=models.Count("id"), oldest=models.Min("created_at"))
    )
    recalled, first = retries.recent(channel, since=now - PACING_WINDOW)
    oldest = min((at for at in (window["oldest"], first) if at is not None), default=None)
    return window["count"] + recalled, oldest


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
            if claim.paced_for:
                return claim.paced_for
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
    # Claims and answers are transactions on the channel's row: take them for half the
    # threads at a time, not one per send that ends (which made 137 sends/s of 20 ms each
    # from 32 threads).
    refill = max(1, threads // 2)
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
            if claiming and (room >= refill or not pending):
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
                wait_for_some(pending, count=min(refill, len(pending)), timeout=IDLE_WAIT)
            elif claiming:
                time.sleep(IDLE_WAIT)
    return then


def wait_for_some(futures: Collection[Future], *, count: int, timeout: float) -> None:
    """Wait until `count` of `futures` are done, or `timeout` seconds."""
    end = time.monotonic() + timeout
    while (left := end - time.monotonic()) > 0:
        running = [future for future in futures if not future.done()]
        if len(futures) - len(running) >= count or not running:
            return
        wait(running, timeout=left, return_when=FIRST_COMPLETED)


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
