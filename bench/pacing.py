"""The many-channels figure: 100 channels paced at 10 contacts a second each, served by two
real workers (SPEC section 8), read back from the ledger's claim times."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.models import ContactList
from channels.models import Delivery

from .data import new_channel
from .processes import start_workers, stop_workers
from .report import figure

WORKER_BOOT = 3
# Seconds after the last Start before counting: every channel's lanes are queued and going.
RAMP = 5
# Seconds counted.
WINDOW = 20


@dataclass(frozen=True)
class Pacing:
    rate: float  # deliveries a second, all channels together, inside the counted window
    slowest: int  # deliveries of the least served channel inside the window
    fastest: int  # ... and of the best served
    worst_second: int  # most claims of one channel in any one-second window, whole run

    @property
    def fairness(self) -> float:
        return self.slowest / self.fastest if self.fastest else 0.0


def busiest_second(times: list[datetime]) -> int:
    """Most of `times` inside any window [t, t + 1 s) (every window worth checking starts at
    one of them)."""
    times = sorted(times)
    second = timedelta(seconds=1)
    return max(
        (bisect.bisect_left(times, at + second, lo=i) - i for i, at in enumerate(times)),
        default=0,
    )


def pacing(
    claims: Iterable[tuple[int, datetime]],
    *,
    channels: Iterable[int],
    start: datetime,
    end: datetime,
) -> Pacing:
    """Read `claims` (channel id, created_at) against the counted window [start, end)."""
    by_channel: dict[int, list[datetime]] = {pk: [] for pk in channels}
    for channel_id, at in claims:
        by_channel[channel_id].append(at)
    inside = [sum(start <= at < end for at in times) for times in by_channel.values()]
    return Pacing(
        rate=sum(inside) / (end - start).total_seconds(),
        slowest=min(inside),
        fastest=max(inside),
        worst_second=max(busiest_second(times) for times in by_channel.values()),
    )


def many_channels_figure(
    contact_list: ContactList, *, channels: int = 100, pace: int = 10
) -> dict:
    """`channels` SMS channels at `pace` contacts/s on 2 workers: the aggregate against
    channels × pace, no channel over its pace in any second, every channel served."""
    assert contact_list.size >= pace * (RAMP + WINDOW + 30), "the audience would run out"
    running = [new_channel(contact_list, max_per_second=pace) for _ in range(channels)]
    processes = start_workers(2)
    try:
        time.sleep(WORKER_BOOT)
        for channel in running:
            channel.start()
        time.sleep(RAMP)
        start = timezone.now()
        time.sleep(WINDOW)
        end = start + timedelta(seconds=WINDOW)
        for channel in running:
            channel.stop()
    finally:
        stop_workers(processes)
    ids = [channel.pk for channel in running]
    claims = (
        Delivery.objects.filter(channel_id__in=ids)
        .exclude(state=Delivery.State.SKIPPED)
        .values_list("channel_id", "created_at")
    )
    seen = pacing(claims, channels=ids, start=start, end=end)
    # What the workers got through: each slice of a paced channel is one claim of its second.
    slices = DBTaskResult.objects.filter(
        task_path="channels.tasks.dispatch_channel", finished_at__gte=start, finished_at__lt=end
    ).count()
    ideal = channels * pace
    return figure(
        f"{channels} running channels, each paced at {pace}/s, 2 workers (postgresql)",
        f"{seen.rate:,.0f} contacts/s vs {ideal:,}/s; busiest second of any channel "
        f"{seen.worst_second} (pace {pace}); slowest channel {seen.slowest} vs fastest "
        f"{seen.fastest} in {WINDOW} s ({seen.fairness:.2f}, target ≥ 0.8); "
        f"{slices / WINDOW:.0f} slices/s",
        seen.rate / ideal,
        0.9,
        holds=seen.worst_second <= pace and seen.fairness >= 0.8,
    )
