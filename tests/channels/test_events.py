"""Provider events: accepted sends, outcomes that arrive later, once and never backwards."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from channels import dispatch, events
from channels.models import Channel, Delivery, ProviderEvent
from channels.providers import SimulatedProvider
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def ledger_counters(channel: Channel) -> dict:
    deliveries = Delivery.objects.filter(channel=channel)
    open_states = [Delivery.State.SENDING, Delivery.State.ACCEPTED]
    return {
        "processed": deliveries.exclude(state__in=open_states).count(),
        "in_flight": deliveries.filter(state__in=open_states).count(),
        "interrupted": deliveries.filter(state=Delivery.State.INTERRUPTED).count(),
        "converted": deliveries.filter(converted=True).count(),
        "outcome_counts": dict(
            deliveries.exclude(outcome="").values_list("outcome").annotate(n=Count("id"))
        ),
    }


def counters(channel: Channel) -> dict:
    channel.refresh_from_db()
    counts = {key: getattr(channel, key) for key in ledger_counters(channel)}
    counts["outcome_counts"] = {k: v for k, v in counts["outcome_counts"].items() if v}
    return counts


def accepted_channel(size=5, kind=Channel.Kind.SMS, **fields) -> Channel:
    contact_list = ContactListFactory(size=size)
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list), kind=kind, **fields
    )
    channel.start()
    return dispatch.run_until_idle(channel_id=channel.pk, timeout=5)


def report(delivery: Delivery, outcome: str, **fields) -> events.Report:
    return events.Report(
        provider="test",
        event_id=fields.pop("event_id", f"{delivery.provider_id}:{outcome}"),
        provider_id=delivery.provider_id,
        outcome=outcome,
        status=outcome,
        **fields,
    )


def test_it_keeps_accepted_deliveries_open_until_their_outcome_arrives(
    accepting, django_capture_on_commit_callbacks
):
    channel = accepted_channel(size=5)
    assert channel.status == Channel.Status.RUNNING
    assert set(Delivery.objects.filter(channel=channel).values_list("state", flat=True)) == {
        Delivery.State.ACCEPTED
    }
    assert channel.in_flight == 5 and channel.processed == 0
    assert channel.outcome_counts == {"sent": 5}
    assert counters(channel) == ledger_counters(channel)

    with django_capture_on_commit_callbacks(execute=True):
        for delivery in Delivery.objects.filter(channel=channel):
            assert events.ingest(report(delivery, "delivered")) == ProviderEvent.Result.APPLIED
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED
    assert channel.processed == 5 and channel.in_flight == 0
    assert counters(channel) == ledger_counters(channel) | {"outcome_counts": {"delivered": 5}}


def test_it_records_a_duplicate_event_once_and_changes_nothing(accepting):
    channel = accepted_channel(size=2)
    delivery = Delivery.objects.filter(channel=channel).first()
    assert events.ingest(report(delivery, "delivered", converted=True)) == "applied"
    before = counters(channel)
    assert events.ingest(report(delivery, "delivered", converted=True)) == events.DUPLICATE
    assert counters(channel) == before == ledger_counters(channel)
    assert ProviderEvent.objects.filter(provider_id=delivery.provider_id).count() == 1
    assert before["converted"] == 1


def test_it_never_moves_an_outcome_backwards(accepting):
    channel = accepted_channel(size=2)
    delivery = Delivery.objects.filter(channel=channel).first()
    events.ingest(report(delivery, "delivered"))
    late = events.ingest(report(delivery, "sent", event_id="late-sent"))
    other_final = events.ingest(report(delivery, "undelivered"))
    delivery.refresh_from_db()
    assert (late, other_final) == ("stale", "stale")
    assert (delivery.state, delivery.outcome) == (Delivery.State.DONE, "delivered")
    assert counters(channel) == ledger_counters(channel)


def test_it_lets_a_bounce_follow_a_delivery_report(accepting):
    channel = accepted_channel(size=1, kind=Channel.Kind.EMAIL)
    delivery = Delivery.objects.get(channel=channel)
    events.ingest(report(delivery, "delivered"))
    assert events.ingest(report(delivery, "bounced")) == "applied"
    delivery.refresh_from_db()
    assert delivery.outcome == "bounced"
    assert counters(channel) == ledger_counters(channel) | {"outcome_counts": {"bounced": 1}}


def test_it_stores_an_event_for_an_unknown_id_and_changes_nothing(accepting):
    channel = accepted_channel(size=2)
    before = counters(channel)
    result = events.ingest(
        events.Report(provider="test", event_id="x", provider_id="nobody", outcome="delivered")
    )
    assert result == ProviderEvent.Result.UNKNOWN
    assert ProviderEvent.objects.get(event_id="x").delivery is None
    assert counters(channel) == before


def test_it_applies_an_event_that_outruns_the_send_answer(fast_engine):
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=ContactListFactory(size=1)))
    channel.start()
    claim = dispatch.claim_batch(
        channel_id=channel.pk,
        generation=Channel.objects.get(pk=channel.pk).dispatch_generation,
        limit=10,
    )
    (message,) = claim.to_send
    # The provider's webhook comes before the worker has recorded the provider's answer.
    events.ingest(
        events.Report(
            provider="test", event_id="e1", delivery_id=message.delivery_id, outcome="delivered"
        )
    )
    dispatch.record_answers(
        channel_id=channel.pk,
        kind=channel.kind,
        answers=[(message, dispatch.Accepted(provider_id="SM-late", outcome="sent"))],
    )
    delivery = Delivery.objects.get(pk=message.delivery_id)
    assert (delivery.state, delivery.outcome, delivery.provider_id) == (
        "done",
        "delivered",
        "SM-late",
    )
    assert counters(channel) == ledger_counters(channel)


def test_it_counts_accepted_calls_against_max_concurrent(accepting):
    channel = accepted_channel(
        size=6, kind=Channel.Kind.AI_VOICE, max_concurrent=2, max_per_second=50
    )
    assert Delivery.objects.filter(channel=channel).count() == 2
    assert channel.in_flight == 2
    first = Delivery.objects.filter(channel=channel).first()
    events.ingest(report(first, "answered", details={"transcript": "Hello"}))
    channel = dispatch.run_until_idle(channel_id=channel.pk, timeout=2)
    assert Delivery.objects.filter(channel=channel).count() == 3
    first.refresh_from_db()
    assert first.details == {"transcript": "Hello"}


def test_it_closes_accepted_deliveries_whose_outcome_never_comes(accepting, settings):
    channel = accepted_channel(size=2, kind=Channel.Kind.AI_VOICE, max_per_second=10)
    sms = accepted_channel(size=1)
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert dispatch.close_overdue(channel_id=channel.pk) == 2
    assert dispatch.close_overdue(channel_id=sms.pk) == 1
    assert dispatch.complete_if_done(channel_id=channel.pk)
    call = Delivery.objects.filter(channel=channel).first()
    text = Delivery.objects.get(channel=sms)
    assert (call.state, call.outcome) == (Delivery.State.FAILED, "failed")
    assert (text.state, text.outcome) == (Delivery.State.DONE, "sent")
    assert "No final report" in call.error
    for each in (channel, sms):
        assert counters(each) == ledger_counters(each)


def test_it_opts_nothing_in_flight_past_a_paused_channel(accepting):
    """Outcomes of sends in flight are still recorded after a pause (SPEC G2)."""
    channel = accepted_channel(size=3)
    channel.pause()
    for delivery in Delivery.objects.filter(channel=channel):
        events.ingest(report(delivery, "delivered"))
    channel.refresh_from_db()
    assert channel.status == Channel.Status.PAUSED
    assert counters(channel) == ledger_counters(channel)
    assert channel.processed == 3


class CollectedWebhooks:
    def __init__(self):
        self.scheduled = []

    def schedule(self, delay, kind, outcomes):
        self.scheduled.append((delay, kind, outcomes))


def test_the_simulator_accepts_and_reports_through_the_event_path(
    fast_engine, django_capture_on_commit_callbacks
):
    webhooks = CollectedWebhooks()
    provider = SimulatedProvider(
        "sms", outcome_delay=0.5, error_rate=0.0, seed=7, webhooks=webhooks
    )
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=ContactListFactory(size=4)))
    channel.start()
    generation = Channel.objects.get(pk=channel.pk).dispatch_generation
    claim = dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=10)
    answers = provider.send_many(claim.to_send)
    assert all(isinstance(answer, dispatch.Accepted) for answer in answers)
    dispatch.record_answers(
        channel_id=channel.pk, kind="sms", answers=list(zip(claim.to_send, answers, strict=True))
    )
    assert Channel.objects.get(pk=channel.pk).in_flight == 4
    # Each outcome is due within 0.25..0.75 s, rounded to the half second.
    assert {delay for delay, _, _ in webhooks.scheduled} <= {0.0, 0.5, 1.0}
    with django_capture_on_commit_callbacks(execute=True):
        for _, kind, outcomes in webhooks.scheduled:
            for outcome in outcomes:
                assert events.ingest(events.simulated_report(kind, outcome)) == "applied"
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED
    expected = sorted(provider.fate(message)[1].outcome for message in claim.to_send)
    assert sorted(Delivery.objects.values_list("outcome", flat=True)) == expected
    assert counters(channel) == ledger_counters(channel)


@pytest.mark.django_db(transaction=True)
def test_the_simulators_callbacks_complete_a_channel_from_their_own_thread(settings):
    from channels.providers import reset_providers, simulated_webhooks

    settings.HERALD_SIMULATOR = {
        **settings.HERALD_SIMULATOR,
        "latency": {"sms": 0.2},
        "error_rate": 0.0,
    }
    reset_providers()
    try:
        channel = accepted_channel(size=20)
        assert channel.status == Channel.Status.RUNNING
        assert Delivery.objects.filter(channel=channel, state="accepted").exists()
        simulated_webhooks.wait_until_idle()
        channel.refresh_from_db()
    finally:
        reset_providers()
    assert channel.status == Channel.Status.COMPLETED
    assert counters(channel) == ledger_counters(channel)
    assert ProviderEvent.objects.filter(provider="simulated").count() == 20
