"""Voice retries (SPEC 4b): calling a contact again when a call ended unanswered.

A voice channel's policy is the outcomes it calls again (`retry_outcomes`, some of
`RETRYABLE`), after how long (`retry_after_minutes`, at least 2) and at most how many calls
per contact (`max_attempts`, 1–5). The delivery row holds the contact's latest call. When
a retry is claimed, the call it follows becomes an `Attempt` row and the delivery starts
over as `sending`, exactly as a first claim does, so answers, provider events, leases and
timeouts work on it unchanged.

Nothing is scheduled when a call ends. A delivery is *waiting* for a retry while it is
done with one of the policy's outcomes, fewer than `max_attempts` calls were placed, it is
not converted and its contact has neither opted out nor lost their number; it is *due*
once `retry_after_minutes` have passed since its call ended and its contact is inside the
sending window. One condition says so (`waiting_condition`), read by the claim, by
completion and by the card: a policy edited while paused, a conversion or an opt-out
counts at once, and a contact who answered is never waiting (`answered` is no retry
outcome). Stop leaves waiting deliveries with their last outcome: nothing claims for a
stopped channel.

How the engine's guarantees hold with retries (SPEC G1–G7):

- never two calls at once: only a `done` delivery is claimed again, inside the claim's
  transaction that holds the channel's row (channels/dispatch.py), as every claim does;
- G2: retries are claimed by that same claim, which first checks the channel is Running;
- G3: the claim moves the counters with the ledger: the last outcome leaves
  `outcome_counts`, the delivery goes from processed to in flight, `retries` counts it;
- G5: a channel completes only when no delivery is waiting (`supervisor.try_complete`);
- G7: a retry counts in the one-second pacing window (`recent`) and as a call in flight.
"""

from __future__ import annotations

import operator
from collections import Counter
from datetime import datetime, timedelta
from functools import reduce

from django.db import models
from django.utils import timezone

from campaigns.models import Contact

from . import windows
from .figures import Outcome
from .models import Attempt, Channel, Delivery
from .options import option

RETRYABLE = (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.VOICEMAIL)
MIN_DELAY_MINUTES = 2
MAX_ATTEMPTS = 5


# -- the policy ------------------------------------------------------------------------------


def policy_errors(channel: Channel) -> dict[str, str]:
    """Why a voice channel's retry policy is refused (`Channel.clean`), by field."""
    if channel.kind != Channel.Kind.AI_VOICE:
        return {}
    errors = {}
    if not set(channel.retry_outcomes or ()) <= set(RETRYABLE):
        errors["retry_outcomes"] = "Only no answer, busy and voicemail can be called again."
    if channel.retry_after_minutes is None or channel.retry_after_minutes < MIN_DELAY_MINUTES:
        errors["retry_after_minutes"] = (
            f"Wait at least {MIN_DELAY_MINUTES} minutes before calling a contact again."
        )
    if channel.max_attempts is None or not 1 <= channel.max_attempts <= MAX_ATTEMPTS:
        errors["max_attempts"] = f"A contact can be called from 1 to {MAX_ATTEMPTS} times."
    return errors


def retries_on(channel: Channel) -> bool:
    return (
        channel.kind == Channel.Kind.AI_VOICE
        and channel.max_attempts > 1
        and bool(channel.retry_outcomes)
    )


def delay(channel: Channel) -> timedelta:
    return timedelta(minutes=channel.retry_after_minutes)


def describe(channel: Channel) -> str:
    """“calls again after no answer or busy, up to 3 calls 30 min apart” (card), or ""."""
    if not retries_on(channel):
        return ""
    labels = [Outcome(o).label.lower() for o in RETRYABLE if o in channel.retry_outcomes]
    outcomes = " or ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
    return (
        f"calls again after {outcomes}, up to {channel.max_attempts} calls "
        f"{channel.retry_after_minutes} min apart"
    )


# -- who is waiting, and who is due ----------------------------------------------------------


def waiting_condition(channel: Channel) -> models.Q:
    """The channel's deliveries waiting for a retry, due or not (on `Delivery`)."""
    if not retries_on(channel):
        return models.Q(pk__in=[])
    condition = (
        models.Q(
            channel_id=channel.pk,
            state=Delivery.State.DONE,
            converted=False,
            outcome__in=list(channel.retry_outcomes),
            attempts__lt=channel.max_attempts,
        )
        & ~models.Q(**{f"contact__{Contact.opt_out_field(channel.kind)}": True})
        & ~models.Q(contact__phone="")
    )
    if not channel.window.any_time and channel.audience_zones:
        # A window changed while paused may leave a zone no common hour: its contacts keep
        # their last outcome rather than hold the channel open forever.
        _, _, never = windows.split_keys(channel.audience_zones, channel.window, windows.clock())
        condition &= ~models.Q(contact__zone_key__in=never)
    return condition


def waiting(channel: Channel) -> models.QuerySet[Delivery]:
    return Delivery.objects.filter(waiting_condition(channel))


def due(channel: Channel, *, now: datetime) -> models.QuerySet[Delivery]:
    """Waiting deliveries whose delay has passed and whose contact is inside the window."""
    rows = waiting(channel).filter(finished_at__lte=now - delay(channel))
    window = channel.window
    if not window.any_time:
        keys = channel.audience_zones or []
        at = windows.clock()
        rows = rows.filter(
            contact__zone_key__in=[k for k in keys if windows.key_is_open(k, window, at)]
        )
    return rows


def next_check(channel: Channel, *, now: datetime) -> float | None:
    """Seconds until a lane with nothing to claim should look again for retries; None when
    none can come (nothing waiting, no call in flight that could end unanswered).

    At most half a lease, so a waiting lane keeps its heartbeat (supervisor.lost_lanes).
    """
    if not retries_on(channel):
        return None
    cap = min(windows.WAIT_CAP_SECONDS, option("lease_seconds") / 2)
    first = waiting(channel).aggregate(first=models.Min("finished_at"))["first"]
    if first is None:
        return cap if channel.in_flight else None
    seconds = (first + delay(channel) - now).total_seconds()
    # Due already but not claimed: its contact is outside the window; look again later.
    return min(seconds, cap) if seconds > 0 else cap


# -- claiming --------------------------------------------------------------------------------


def claim_due(
    channel: Channel, *, now: datetime, limit: int, lease_until: datetime, columns
) -> list[dict]:
    """Claim up to `limit` due retries, inside the claim's transaction and channel lock.

    Returns their rows (the contact `columns`, `delivery_id` and the new call's `attempt`).
    The caller moves the counters with `counted`.
    """
    if limit <= 0 or not retries_on(channel):
        return []
    rows = list(
        due(channel, now=now)
        .order_by("finished_at", "pk")
        .values(
            "id",
            "contact_id",
            "attempts",
            "outcome",
            "provider_id",
            "details",
            "created_at",
            "retried_at",
            "finished_at",
            *columns,
        )[:limit]
    )
    if not rows:
        return []
    Attempt.objects.bulk_create(
        Attempt(
            delivery_id=row["id"],
            number=row["attempts"],
            outcome=row["outcome"],
            provider_id=row["provider_id"],
            details=row["details"] or {},
            started_at=row["retried_at"] or row["created_at"],
            ended_at=row["finished_at"],
        )
        for row in rows
    )
    # Under the channel's lock nothing else moves a done delivery: every row read updates.
    Delivery.objects.filter(pk__in=[row["id"] for row in rows], state=Delivery.State.DONE).update(
        state=Delivery.State.SENDING,
        outcome="",
        provider_id="",
        details={},
        error="",
        finished_at=None,
        lease_expires_at=lease_until,
        attempts=models.F("attempts") + 1,
        retried_at=now,
    )
    for row in rows:
        row["delivery_id"], row["attempt"] = row["id"], row["attempts"] + 1
    return rows


def counted(channel: Channel, rows: list[dict]) -> dict:
    """The channel's counter changes for claimed retries, beyond processed and in flight:
    their last outcomes leave `outcome_counts` (the channel row as read under the lock)."""
    if not rows:
        return {}
    counts = Counter(channel.outcome_counts)
    counts.subtract(row["outcome"] for row in rows)
    return {
        "retries": models.F("retries") + len(rows),
        "outcome_counts": {outcome: n for outcome, n in counts.items() if n},
    }


def recent(channel: Channel, *, since: datetime) -> tuple[int, datetime | None]:
    """Retries claimed since `since`, and the first of them (the pacing window, G7)."""
    if not retries_on(channel):
        return 0, None
    found = Delivery.objects.filter(channel_id=channel.pk, retried_at__gte=since).aggregate(
        count=models.Count("id"), first=models.Min("retried_at")
    )
    return found["count"], found["first"]


def earlier_call(delivery: Delivery, provider_id: str) -> Attempt | None:
    """The delivery's earlier call a provider event names, when it is not about the latest
    one (a late report of a call that was followed by a retry)."""
    if delivery.attempts < 2 or not provider_id or delivery.provider_id == provider_id:
        return None
    return Attempt.objects.filter(delivery_id=delivery.pk, provider_id=provider_id).first()


def add_details(call: Attempt, details: dict) -> None:
    """What a late report tells of an earlier call (its transcript, say) is kept with it."""
    if details:
        Attempt.objects.filter(pk=call.pk).update(details={**call.details, **details})


# -- the card --------------------------------------------------------------------------------


def waiting_by_channel(channels: list[Channel]) -> dict[int, tuple[int, datetime]]:
    """channel id -> (deliveries waiting, when the first is due), in one grouped query, for
    the Running and Paused channels among `channels` that retry."""
    live = [
        c
        for c in channels
        if retries_on(c) and c.status in (Channel.Status.RUNNING, Channel.Status.PAUSED)
    ]
    if not live:
        return {}
    rows = (
        Delivery.objects.filter(reduce(operator.or_, (waiting_condition(c) for c in live)))
        .values_list("channel_id")
        .annotate(n=models.Count("id"), first=models.Min("finished_at"))
        .order_by()
    )
    by_pk = {c.pk: c for c in live}
    return {pk: (n, first + delay(by_pk[pk])) for pk, n, first in rows}


def waiting_text(count: int, next_due: datetime, *, now: datetime) -> str:
    """“3 retries waiting · next at 14:05” (in the site's time zone)."""
    noun = "retry" if count == 1 else "retries"
    if next_due <= now:
        return f"{count:,} {noun} waiting · next due now"
    return f"{count:,} {noun} waiting · next at {timezone.localtime(next_due):%H:%M}"
