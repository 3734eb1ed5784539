"""The engine with real worker processes: G1–G7 under pause storms, crashes and pacing.

These start `manage.py db_worker` subprocesses against the test database. The PostgreSQL
ones run on the PostgreSQL leg of `make test`; the lifecycle test runs on SQLite too.
"""

import random
import time
from datetime import timedelta

import pytest
from django.db.models import Count, F, Sum
from django.utils import timezone

from campaigns.models import Contact
from channels import retries
from channels.models import Attempt, Channel, Delivery, InvalidTransition
from tests.channels.test_dispatch import counters, ledger_counters
from tests.channels.workers import Workers
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory
from tests.providers import FlakyProvider

pytestmark = [pytest.mark.workers, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


def list_of(size: int):
    contact_list = ContactListFactory()
    contacts = Contact.objects.bulk_create(
        Contact(name=f"Person {i}", phone=f"+1202{i:07d}", email=f"p{i}@example.com")
        for i in range(size)
    )
    contact_list.add_contacts([c.pk for c in contacts])
    return contact_list


def channel_on(size: int, **kwargs) -> Channel:
    campaign = CampaignFactory(contact_list=list_of(size))
    return ChannelFactory(campaign=campaign, **kwargs)


def wait_for(predicate, *, timeout: float, workers: Workers, every: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s; worker logs:\n{workers.logs()}")


def status_of(channel: Channel) -> str:
    return Channel.objects.values_list("status", flat=True).get(pk=channel.pk)


def assert_once_each_and_counted(channel: Channel, audience: int) -> None:
    deliveries = Delivery.objects.filter(channel=channel)
    assert deliveries.count() == audience
    assert not deliveries.values("contact").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not deliveries.filter(state=Delivery.State.SENDING).exists()
    assert counters(channel) == ledger_counters(channel)
    assert channel.processed == audience


def test_it_runs_a_channel_through_start_pause_resume_to_completion(workers):
    channel = channel_on(300, kind=Channel.Kind.EMAIL, max_per_second=100)
    workers.start(1)
    channel.start()
    wait_for(
        lambda: Delivery.objects.filter(channel=channel).exists(), timeout=30, workers=workers
    )
    channel.pause()
    channel.resume()
    wait_for(lambda: status_of(channel) == Channel.Status.COMPLETED, timeout=60, workers=workers)
    assert_once_each_and_counted(channel, 300)
    channel.campaign.refresh_from_db()
    assert channel.campaign.status == "completed"


@pytest.mark.postgres
def test_it_survives_a_pause_resume_storm_with_two_workers(workers):
    channel = channel_on(20_000, max_per_second=100_000)
    workers.start(2)
    channel.start()
    rng = random.Random(20_000)
    toggles = 0
    end = time.monotonic() + 240
    while status_of(channel) != Channel.Status.COMPLETED and time.monotonic() < end:
        time.sleep(rng.uniform(0.05, 0.2))
        channel.refresh_from_db()
        try:
            if channel.status == Channel.Status.RUNNING:
                channel.pause()
                toggles += 1
            elif channel.status == Channel.Status.PAUSED:
                channel.resume()
        except InvalidTransition:
            # Only the engine's completion may come between our read and our action.
            assert status_of(channel) == Channel.Status.COMPLETED
    assert status_of(channel) == Channel.Status.COMPLETED, workers.logs()
    assert toggles >= 5
    assert_once_each_and_counted(channel, 20_000)


@pytest.mark.postgres
@pytest.mark.parametrize("action", ["pause", "stop"])
def test_it_hands_no_new_contact_to_a_provider_after_pause_or_stop(workers, action):
    channel = channel_on(3000, kind=Channel.Kind.AI_VOICE, max_concurrent=20, max_per_second=200)
    workers.start(2)
    channel.start()
    wait_for(
        lambda: Delivery.objects.filter(channel=channel).count() > 100, timeout=30, workers=workers
    )
    getattr(channel, action)()
    claimed = Delivery.objects.filter(channel=channel).count()
    time.sleep(2.5)
    assert Delivery.objects.filter(channel=channel).count() == claimed
    # In-flight calls finished (their outcomes came in) and were recorded.
    wait_for(
        lambda: (
            not Delivery.objects.filter(
                channel=channel, state__in=[Delivery.State.SENDING, Delivery.State.ACCEPTED]
            ).exists()
        ),
        timeout=10,
        workers=workers,
    )
    assert counters(channel) == ledger_counters(channel)
    assert status_of(channel) == action.replace("pause", "paused").replace("stop", "stopped")
    if action == "stop":
        with pytest.raises(Exception, match="stopped"):
            channel.resume()
        time.sleep(1)
        assert status_of(channel) == Channel.Status.STOPPED
        assert Delivery.objects.filter(channel=channel).count() == claimed


@pytest.mark.postgres
def test_it_survives_workers_killed_mid_run(tmp_path):
    # Placing a call takes 0.5 s, as a slow API round trip does: a kill lands mid-send.
    workers = Workers(tmp_path, HERALD_SIMULATOR_SEND_LATENCY="ai_voice=0.5")
    channel = channel_on(1500, kind=Channel.Kind.AI_VOICE, max_concurrent=30, max_per_second=500)
    workers.start(2)
    channel.start()
    rng = random.Random(9)
    sending = Delivery.objects.filter(channel=channel, state=Delivery.State.SENDING)
    for _ in range(3):
        # Every worker is killed while calls are being placed: some surely by a dead one.
        wait_for(sending.exists, timeout=30, workers=workers, every=0.02)
        for process in workers.alive():
            workers.kill(process)
        workers.start(2)
        time.sleep(rng.uniform(1.0, 2.5))
    try:
        wait_for(
            lambda: status_of(channel) == Channel.Status.COMPLETED, timeout=120, workers=workers
        )
    finally:
        workers.stop_all()
    assert_once_each_and_counted(channel, 1500)
    # Calls in flight on the killed workers were never re-sent: they are interrupted.
    interrupted = Delivery.objects.filter(channel=channel, state=Delivery.State.INTERRUPTED)
    assert interrupted.count() > 0
    assert interrupted.filter(outcome="").count() == interrupted.count()


@pytest.mark.postgres
def test_it_fails_only_the_contacts_the_provider_refuses(tmp_path):
    pool = Workers(tmp_path, HERALD_SMS_PROVIDER="tests.providers.FlakyProvider")
    try:
        channel = channel_on(2000)
        pool.start(2)
        channel.start()
        wait_for(lambda: status_of(channel) == Channel.Status.COMPLETED, timeout=60, workers=pool)
    finally:
        pool.stop_all()
    assert_once_each_and_counted(channel, 2000)
    deliveries = Delivery.objects.filter(channel=channel)
    expected = {d.contact_id for d in deliveries if FlakyProvider.fails(d.contact_id)}
    failed = set(deliveries.filter(state="failed").values_list("contact_id", flat=True))
    assert failed == expected and 100 < len(failed) < 300
    assert deliveries.filter(state="done").count() == 2000 - len(expected)


@pytest.mark.postgres
def test_it_never_exceeds_max_per_second_across_workers(workers):
    channel = channel_on(120, max_per_second=20)
    workers.start(2)
    channel.start()
    wait_for(lambda: status_of(channel) == Channel.Status.COMPLETED, timeout=60, workers=workers)
    times = sorted(Delivery.objects.filter(channel=channel).values_list("created_at", flat=True))
    assert len(times) == 120
    busiest = max(
        sum(1 for t in times[i:] if (t - start).total_seconds() < 1)
        for i, start in enumerate(times)
    )
    assert busiest <= 20
    # And it is not idle either: 120 claims at 20 a second take about six seconds.
    assert (times[-1] - times[0]).total_seconds() >= 5


def call_instants(channel: Channel) -> list:
    """When each call of a channel was claimed: first calls, then retries (earlier ones are
    Attempt rows; the latest is on its delivery)."""
    deliveries = Delivery.objects.filter(channel=channel).exclude(state=Delivery.State.SKIPPED)
    return sorted(
        [
            *deliveries.values_list("created_at", flat=True),
            *deliveries.exclude(retried_at=None).values_list("retried_at", flat=True),
            *Attempt.objects.filter(delivery__channel=channel, number__gt=1).values_list(
                "started_at", flat=True
            ),
        ]
    )


def calls_placed(channel: Channel) -> int:
    return Delivery.objects.filter(channel=channel).aggregate(n=Sum("attempts"))["n"] or 0


@pytest.mark.postgres
def test_retries_keep_g1_to_g7_with_workers_a_pause_and_a_crash(workers):
    policy = {"retry_outcomes": list(retries.RETRYABLE), "retry_after_minutes": 2}
    channel = channel_on(
        400,
        kind=Channel.Kind.AI_VOICE,
        max_concurrent=20,
        max_per_second=60,
        max_attempts=3,
        **policy,
    )
    workers.start(2)
    channel.start()

    def age_waiting() -> None:
        # The workers' clock cannot be moved: the end of calls waiting for a retry is moved
        # back instead, by the two minutes' delay, so their retries come due now. Only calls
        # that ended two real seconds ago: a retry is never claimed within a second of the
        # call before it (as with the real delay), which the pacing check below relies on.
        ended = retries.waiting(channel).filter(
            finished_at__lt=timezone.now() - timedelta(seconds=2)
        )
        ended.update(finished_at=F("finished_at") - timedelta(minutes=2))

    def retried() -> bool:
        age_waiting()
        return Channel.objects.values_list("retries", flat=True).get(pk=channel.pk) > 50

    wait_for(retried, timeout=60, workers=workers, every=0.5)
    # G2: once Pause has returned, no retry (nor first call) is placed.
    channel.pause()
    placed = calls_placed(channel)
    for _ in range(5):
        age_waiting()
        time.sleep(0.5)
    assert calls_placed(channel) == placed
    channel.resume()
    # G4: a worker killed while retries are placed; the others go on.
    workers.kill(workers.alive()[0])
    workers.start(1)

    def finished() -> bool:
        age_waiting()
        return status_of(channel) == Channel.Status.COMPLETED

    wait_for(finished, timeout=120, workers=workers, every=0.5)
    channel.refresh_from_db()
    # G5 and G3: one delivery per contact, counters equal to the ledger, none waiting.
    assert_once_each_and_counted(channel, 400)
    assert not retries.waiting(channel).exists()
    earlier = Attempt.objects.filter(delivery__channel=channel)
    assert channel.retries == earlier.count() == calls_placed(channel) - 400 > 50
    # G1's exception: at most max_attempts calls, numbered in order, each retry placed only
    # after the call before it had ended with a retry outcome (never two at once).
    deliveries = Delivery.objects.filter(channel=channel)
    assert max(deliveries.values_list("attempts", flat=True)) <= 3
    for delivery in deliveries.filter(attempts__gt=1).prefetch_related("earlier_calls"):
        calls = list(delivery.earlier_calls.all())
        assert [c.number for c in calls] == list(range(1, delivery.attempts))
        assert all(c.outcome in retries.RETRYABLE and c.ended_at for c in calls)
    # G7: retries count in the pacing: no second holds more than 60 calls.
    instants = call_instants(channel)
    assert len(instants) == calls_placed(channel)
    busiest = max(
        sum(1 for t in instants[i : i + 61] if (t - start).total_seconds() < 1)
        for i, start in enumerate(instants)
    )
    assert busiest <= 60
