"""The engine's figures: dispatch rate against the raw SQL floor, two workers against one,
concurrent voice calls, and the controls on a big audience against a small one."""

from __future__ import annotations

import statistics
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import ContactList
from channels.models import Channel, Delivery

from .data import new_channel, settle
from .processes import start_workers, stop_workers
from .report import figure
from .timing import seconds

# Seconds for db_worker processes to boot before a clock starts.
WORKER_BOOT = 3
# The provider's API round trip in the two-workers figure (SPEC section 8): lanes exist so
# that one channel's sends overlap across workers when each send waits on the network.
SEND_LATENCY = {"HERALD_SIMULATOR_SEND_LATENCY": "sms=0.02"}


def dispatch_figures(contact_list: ContactList, *, vendor: str) -> list[dict]:
    """One worker against the raw floor; on PostgreSQL, two workers against one with a
    provider that takes 20 ms a send."""
    size = contact_list.size
    raw = raw_floor_rate(contact_list)
    one = dispatch_rate(contact_list, workers=1)
    rows = [
        figure(
            f"dispatch, 1 worker ({vendor})",
            f"{one:,.0f} deliveries/s vs raw SQL floor {raw:,.0f}/s ({size:,} contacts)",
            one / raw,
            0.5,
        )
    ]
    if vendor == "postgresql":
        settle()  # the 100,000 rows just written leave autovacuum work behind
        one_slow = steady_rate(contact_list, workers=1, **SEND_LATENCY)
        two_slow = steady_rate(contact_list, workers=2, **SEND_LATENCY)
        rows.append(
            figure(
                "dispatch, 2 workers on one channel, 20 ms sends (postgresql)",
                f"{two_slow:,.0f}/s vs 1 worker {one_slow:,.0f}/s",
                two_slow / one_slow,
                1.6,
            )
        )
    return rows


def raw_floor_rate(contact_list: ContactList) -> float:
    """The same delivery rows, written by plain batched INSERTs, one commit per batch."""
    channel = new_channel(contact_list)
    table = Delivery._meta.db_table
    ids = list(contact_list.memberships.order_by("id").values_list("contact_id", flat=True))
    batch = settings.HERALD_ENGINE["batch_size"]
    began = time.perf_counter()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        params = []
        for contact_id in chunk:
            at = [timezone.now(), timezone.now()]  # created_at, finished_at
            params += [channel.pk, contact_id, "done", "delivered", False, "sim", "", *at]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (channel_id, contact_id, state, outcome, converted, "
                f"provider_id, error, created_at, finished_at) VALUES {values}",
                params,
            )
    return len(ids) / (time.perf_counter() - began)


def wait_until_finished(channel: Channel, *, timeout: float = 600) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if Channel.objects.filter(pk=channel.pk, status=Channel.Status.COMPLETED).exists():
            return
        time.sleep(0.02)
    raise RuntimeError(f"channel {channel.pk} did not complete in {timeout}s")


def dispatch_rate(contact_list: ContactList, *, workers: int, **worker_env: str) -> float:
    """Start to Completed through real db_worker processes, zero-latency provider unless
    `worker_env` says otherwise."""
    processes = start_workers(workers, **worker_env)
    try:
        time.sleep(WORKER_BOOT)
        channel = new_channel(contact_list)
        began = time.perf_counter()
        channel.start()
        wait_until_finished(channel)
        elapsed = time.perf_counter() - began
    finally:
        stop_workers(processes)
    channel.refresh_from_db()
    return channel.processed / elapsed


def steady_rate(
    contact_list: ContactList, *, workers: int, ramp: float = 3, window: float = 20, **worker_env
) -> float:
    """Deliveries a second of one unpaced channel on `workers` real db_worker processes,
    counted over `window` seconds once it has run `ramp` seconds (slow sends would take
    minutes to finish the whole audience)."""
    processes = start_workers(workers, **worker_env)
    try:
        time.sleep(WORKER_BOOT)
        channel = new_channel(contact_list)
        channel.start()
        time.sleep(ramp)
        before, began = Delivery.objects.filter(channel=channel).count(), time.perf_counter()
        time.sleep(window)
        after = Delivery.objects.filter(channel=channel).count()
        rate = (after - before) / (time.perf_counter() - began)
        channel.stop()
    finally:
        stop_workers(processes)
    return rate


def voice_concurrency_figure(contact_list: ContactList) -> dict:
    """50 concurrent simulated calls of 2 s each: about 25 calls a second."""
    processes = start_workers(1, HERALD_SIMULATOR_LATENCY="ai_voice=2")
    try:
        time.sleep(WORKER_BOOT)
        channel = new_channel(
            contact_list, kind=Channel.Kind.AI_VOICE, max_concurrent=50, max_per_second=1000
        )
        channel.start()
        time.sleep(4)  # ramp up
        before, began = Delivery.objects.filter(channel=channel).count(), time.perf_counter()
        time.sleep(20)
        rate = (Delivery.objects.filter(channel=channel).count() - before) / (
            time.perf_counter() - began
        )
        channel.stop()
    finally:
        stop_workers(processes)
    return figure(
        "voice: 50 concurrent 2 s calls, 1 worker",
        f"{rate:.1f} calls/s (ideal 25/s)",
        rate / 25,
        0.8,
    )


def time_action(channels: list[Channel], action: str) -> float:
    """Median seconds of `channel.<action>()` over `channels`."""
    return statistics.median(seconds(getattr(channel, action)) for channel in channels)


def control_figures(big_list: ContactList, small_list: ContactList) -> list[dict]:
    """Start, pause, resume, stop on a 1,000,000-contact audience vs a 10-contact one."""
    rows = []
    repeats = 7
    big = [new_channel(big_list) for _ in range(repeats)]
    small = [new_channel(small_list) for _ in range(repeats)]
    # No worker runs here: these time the actions themselves, not the dispatching.
    for action in ("start", "pause", "resume", "stop"):
        t_big, t_small = time_action(big, action), time_action(small, action)
        rows.append(
            figure(
                f"{action}, {big_list.size:,}-contact audience",
                f"{t_big * 1000:.1f} ms vs {t_small * 1000:.1f} ms for 10 contacts",
                t_big / t_small,
                2.0,
                higher=False,
            )
        )
    return rows


def first_contact_figure(contact_list: ContactList, *, vendor: str) -> dict:
    """Seconds from Start to the first delivery of a new channel while 10 others run on one
    worker (SPEC section 8: at most 3 s), with the simulator's default call and text delays."""
    processes = start_workers(1, HERALD_SIMULATOR_LATENCY="ai_voice=2,sms=0.05,email=0.02")
    busy = [
        new_channel(contact_list, kind=kind, max_per_second=pace, max_concurrent=10)
        for kind, pace in [(Channel.Kind.AI_VOICE, 5), (Channel.Kind.SMS, 50)] * 5
    ]
    waits = []
    try:
        time.sleep(WORKER_BOOT)
        for channel in busy:
            channel.start()
        time.sleep(5)  # every busy channel has lanes queued and running
        for _ in range(5):
            channel = new_channel(contact_list, max_per_second=50)
            began = time.perf_counter()
            channel.start()
            while not Delivery.objects.filter(channel=channel).exists():
                time.sleep(0.01)
            waits.append(time.perf_counter() - began)
            channel.stop()
            time.sleep(1)
    finally:
        for channel in busy:
            channel.refresh_from_db()
            if channel.status in (Channel.Status.RUNNING, Channel.Status.PAUSED):
                channel.stop()
        stop_workers(processes)
    worst = max(waits)
    return figure(
        f"first contact after Start, 10 other channels running, 1 worker ({vendor})",
        f"worst {worst:.2f} s, median {statistics.median(waits):.2f} s over {len(waits)} starts",
        worst / 3.0,
        1.0,
        higher=False,
    )
