"""Voice retries (SPEC 4b): who is called again, when, how often, and what is counted."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Contact
from channels import dispatch, retries
from channels.conversions import mark_converted
from channels.events import Report, ingest
from channels.models import Attempt, Channel, Delivery, ProviderEvent
from channels.progress import load_live_channels
from tests.analytics.test_export_results import rows_of
from tests.channels.test_dispatch import counters, ledger_counters
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory
from tests.providers import ScriptedCallProvider

pytestmark = pytest.mark.django_db

START = datetime(2027, 6, 15, 15, 0, tzinfo=UTC)  # 11:00 in New York


@pytest.fixture
def scripted(fast_engine, use_provider):
    use_provider("tests.providers.ScriptedCallProvider")
    ScriptedCallProvider.reset()
    return ScriptedCallProvider


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def calling(contacts, **policy) -> Channel:
    """A started voice channel that calls `contacts`, with a retry policy."""
    contact_list = ContactListFactory()
    contact_list.add_contacts([c.pk for c in contacts])
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list),
        kind=Channel.Kind.AI_VOICE,
        **{
            "retry_outcomes": ["no_answer", "busy", "voicemail"],
            "retry_after_minutes": 10,
            "max_attempts": 3,
            **policy,
        },
    )
    channel.start()
    return channel


def work(channel: Channel) -> dispatch.Continue:
    """Run slices until the chain ends or waits for more than a pacing pause."""
    for _ in range(50):
        generation = Channel.objects.get(pk=channel.pk).dispatch_generation
        then = dispatch.run_slice(channel_id=channel.pk, generation=generation)
        if then is None or then >= 1:
            return then
    raise AssertionError("the channel neither finished nor waited")


def status_of(channel: Channel) -> str:
    return Channel.objects.values_list("status", flat=True).get(pk=channel.pk)


def assert_counted(channel: Channel) -> None:
    """G3, with the retries counter: calls after the first, as the ledger says."""
    assert counters(channel) == ledger_counters(channel)
    earlier = Attempt.objects.filter(delivery__channel=channel).count()
    assert channel.retries == earlier
    assert (
        channel.retries
        == sum(Delivery.objects.filter(channel=channel).values_list("attempts", flat=True))
        - Delivery.objects.filter(channel=channel).count()
    )


def card_of(channel: Channel, *, now: datetime) -> Channel:
    return next(c for c in load_live_channels(channel.campaign, now=now) if c.pk == channel.pk)


def test_it_calls_a_no_answer_contact_again_after_the_delay_and_no_sooner(scripted, clock):
    contact = ContactFactory()
    channel = calling([contact])

    work(channel)
    assert scripted.placed(contact.pk) == [1]
    assert status_of(channel) == Channel.Status.RUNNING  # a retry is waiting
    assert card_of(channel, now=START).retry_wait == "1 retry waiting · next at 15:10"

    clock.shift(timedelta(minutes=10) - timedelta(seconds=1))
    work(channel)
    assert scripted.placed(contact.pk) == [1]

    clock.shift(timedelta(seconds=1))
    work(channel)
    assert scripted.placed(contact.pk) == [1, 2]
    delivery = Delivery.objects.get(channel=channel)
    assert (delivery.attempts, delivery.state, delivery.outcome) == (2, "done", "no_answer")
    assert delivery.retried_at == START + timedelta(minutes=10)
    first = Attempt.objects.get(delivery=delivery)
    assert (first.number, first.outcome, first.started_at, first.ended_at) == (
        1,
        "no_answer",
        START,
        START,
    )
    assert first.provider_id == f"call-{delivery.pk}-1"
    assert_counted(channel)

    # The third call is the last one the policy allows, however long the clock runs.
    clock.shift(timedelta(minutes=10))
    work(channel)
    clock.shift(timedelta(hours=5))
    assert work(channel) is None
    assert scripted.placed(contact.pk) == [1, 2, 3]
    assert list(Attempt.objects.filter(delivery=delivery).values_list("number", "outcome")) == [
        (1, "no_answer"),
        (2, "no_answer"),
    ]
    assert status_of(channel) == Channel.Status.COMPLETED
    channel.refresh_from_db()
    assert channel.outcome_counts == {"no_answer": 1}
    assert channel.retries == 2
    assert_counted(channel)
    dispatch.recount(channel_id=channel.pk)  # the ledger says the same
    assert Channel.objects.get(pk=channel.pk).retries == 2


def test_a_pause_holds_retries_until_resumed(scripted, clock):
    contact = ContactFactory()
    channel = calling([contact], max_attempts=2)
    work(channel)
    channel.pause()

    clock.shift(timedelta(hours=1))
    assert work(channel) is None
    assert scripted.placed(contact.pk) == [1]
    assert card_of(channel, now=timezone.now()).retry_wait == "1 retry waiting · next due now"

    channel.resume()
    work(channel)
    assert scripted.placed(contact.pk) == [1, 2]
    assert status_of(channel) == Channel.Status.COMPLETED
    assert_counted(channel)


def test_an_answered_contact_is_never_called_again(scripted, clock):
    answers_first, answers_second = ContactFactory(), ContactFactory()
    scripted.reset({answers_first.pk: ["answered"], answers_second.pk: ["busy", "answered"]})
    channel = calling([answers_first, answers_second], max_attempts=5)

    for _ in range(6):
        work(channel)
        clock.shift(timedelta(minutes=11))

    assert scripted.placed(answers_first.pk) == [1]
    assert scripted.placed(answers_second.pk) == [1, 2]
    assert status_of(channel) == Channel.Status.COMPLETED
    channel.refresh_from_db()
    # The busy call was counted, then moved to answered once, when it was called again.
    assert channel.outcome_counts == {"answered": 2}
    assert_counted(channel)


def test_stop_places_no_retry_and_keeps_the_last_outcome(scripted, clock):
    contact = ContactFactory()
    channel = calling([contact])
    work(channel)
    channel.stop()

    clock.shift(timedelta(hours=1))
    assert work(channel) is None
    assert scripted.placed(contact.pk) == [1]
    delivery = Delivery.objects.get(channel=channel)
    assert (delivery.state, delivery.outcome, delivery.attempts) == ("done", "no_answer", 1)
    assert card_of(channel, now=timezone.now()).retry_wait == ""


def test_a_converted_or_opted_out_contact_is_not_called_again(scripted, clock):
    converts, opts_out, stays = ContactFactory(), ContactFactory(), ContactFactory()
    channel = calling([converts, opts_out, stays], max_attempts=2)
    work(channel)
    mark_converted(delivery=Delivery.objects.get(channel=channel, contact=converts))
    opts_out.set_consent("ai_voice", opted_out=True, source="manual")

    clock.shift(timedelta(minutes=10))
    work(channel)
    assert scripted.placed(converts.pk) == [1]
    assert scripted.placed(opts_out.pk) == [1]
    assert scripted.placed(stays.pk) == [1, 2]
    assert status_of(channel) == Channel.Status.COMPLETED
    assert_counted(channel)


def test_only_the_chosen_outcomes_are_called_again(scripted, clock):
    busy, voicemail = ContactFactory(), ContactFactory()
    scripted.reset({busy.pk: ["busy"], voicemail.pk: ["voicemail"]})
    channel = calling([busy, voicemail], retry_outcomes=["busy"], max_attempts=2)
    work(channel)
    clock.shift(timedelta(minutes=10))
    work(channel)
    assert scripted.placed(busy.pk) == [1, 2]
    assert scripted.placed(voicemail.pk) == [1]
    assert status_of(channel) == Channel.Status.COMPLETED


def test_retries_count_in_the_pacing_window(scripted, clock):
    contacts = ContactFactory.create_batch(3)
    channel = calling(contacts, max_per_second=2, max_attempts=2)
    # The pacing window counts claims made at most one second ago, that instant included.
    NEXT_SECOND = timedelta(seconds=1, milliseconds=1)  # noqa: N806
    generation = Channel.objects.get(pk=channel.pk).dispatch_generation

    def claim_and_answer() -> list[int]:
        claim = dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=10)
        provider = ScriptedCallProvider("ai_voice")
        answers = [(message, provider.send(message)) for message in claim.to_send]
        dispatch.record_answers(channel_id=channel.pk, kind=channel.kind, answers=answers)
        return sorted(message.attempt for message in claim.to_send)

    assert claim_and_answer() == [1, 1]
    assert claim_and_answer() == []  # two calls this second already
    clock.shift(NEXT_SECOND)
    assert claim_and_answer() == [1]
    clock.shift(timedelta(minutes=10))
    # Three retries are due; two fit in this second, the third in the next.
    assert claim_and_answer() == [2, 2]
    assert claim_and_answer() == []
    clock.shift(NEXT_SECOND)
    assert claim_and_answer() == [2]
    assert_counted(channel)


def test_a_retry_due_outside_the_sending_window_waits_for_it(scripted, clock):
    contact = ContactFactory(timezone="America/New_York")
    clock.move_to(datetime(2027, 6, 16, 0, 55, tzinfo=UTC))  # 20:55 in New York
    channel = calling([contact], window_start=time(8), window_end=time(21), max_attempts=2)
    work(channel)
    assert scripted.placed(contact.pk) == [1]

    clock.move_to(datetime(2027, 6, 16, 11, 59, tzinfo=UTC))  # 07:59 the next morning
    work(channel)
    assert scripted.placed(contact.pk) == [1]
    clock.move_to(datetime(2027, 6, 16, 12, 0, tzinfo=UTC))  # 08:00
    work(channel)
    assert scripted.placed(contact.pk) == [1, 2]
    assert status_of(channel) == Channel.Status.COMPLETED


def test_a_window_with_no_hour_left_for_a_waiting_contact_lets_the_channel_finish(scripted, clock):
    contact = ContactFactory()
    channel = calling([contact], window_start=time(8), window_end=time(21), max_attempts=2)
    work(channel)
    channel.pause()
    # Edited while paused: 06:00–07:00 in New York and in Honolulu at once never happens.
    both = "America/New_York|Pacific/Honolulu"
    Contact.objects.filter(pk=contact.pk).update(zone_key=both)
    Channel.objects.filter(pk=channel.pk).update(
        window_start=time(6), window_end=time(7), audience_zones=[both]
    )
    channel.resume()
    clock.shift(timedelta(days=2))
    work(channel)
    assert scripted.placed(contact.pk) == [1]
    assert status_of(channel) == Channel.Status.COMPLETED


def test_a_late_event_about_an_earlier_call_changes_nothing(accepting, clock):
    contact = ContactFactory()
    channel = calling([contact], max_attempts=2)
    work(channel)
    delivery = Delivery.objects.get(channel=channel)
    first_call = delivery.provider_id

    def report(
        event_id: str, outcome: str, provider_id: str, *, named: bool = True, **details
    ) -> str:
        return ingest(
            Report(
                provider="test",
                event_id=event_id,
                kind="ai_voice",
                outcome=outcome,
                final=True,
                provider_id=provider_id,
                delivery_id=delivery.pk if named else None,
                details=details,
            )
        )

    assert report("e1", "no_answer", first_call) == ProviderEvent.Result.APPLIED
    clock.shift(timedelta(minutes=10))
    work(channel)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.state, delivery.outcome) == (2, "accepted", "")
    second_call = delivery.provider_id
    assert second_call not in ("", first_call)

    # The first call's end-of-call report, late: it is not the second call's outcome.
    late = report("e2", "answered", first_call, summary="Rang out.")
    assert late == ProviderEvent.Result.STALE
    assert Attempt.objects.get(delivery=delivery).details == {"summary": "Rang out."}
    assert report("e2b", "answered", first_call, named=False) == ProviderEvent.Result.STALE
    delivery.refresh_from_db()
    assert (delivery.state, delivery.outcome) == ("accepted", "")
    assert_counted(channel)

    assert report("e3", "voicemail", second_call) == ProviderEvent.Result.APPLIED
    channel.refresh_from_db()
    assert channel.outcome_counts == {"voicemail": 1}
    assert_counted(channel)
    work(channel)
    assert status_of(channel) == Channel.Status.COMPLETED


def test_the_simulator_gives_each_call_its_own_fate_and_id():
    from channels.providers import Outgoing
    from channels.providers.simulator import SimulatedProvider

    provider = SimulatedProvider("ai_voice", outcome_delay=0, error_rate=0, seed=7)
    first = Outgoing(delivery_id=5, channel_id=1, contact_id=2, kind="ai_voice", to="+1")
    results = [provider.send(replace(first, attempt=n)) for n in range(1, 6)]
    assert [r.provider_id for r in results] == ["sim-5", *(f"sim-5:{n}" for n in range(2, 6))]
    assert len({r.outcome for r in results}) > 1  # not the same answer every time


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"retry_after_minutes": 1}, "retry_after_minutes"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 6}, "max_attempts"),
        ({"retry_outcomes": ["answered"]}, "retry_outcomes"),
    ],
)
def test_it_refuses_a_policy_outside_its_bounds(policy, field):
    channel = ChannelFactory.build(kind=Channel.Kind.AI_VOICE, **policy)
    assert field in retries.policy_errors(channel)


def test_analytics_counts_contacts_and_calls_apart(scripted, clock):
    from campaigns.analytics import channel_figures

    contacts = ContactFactory.create_batch(2)
    scripted.reset({contacts[0].pk: ["answered"]})
    channel = calling(contacts)
    for _ in range(3):
        work(channel)
        clock.shift(timedelta(minutes=10))
    channel.refresh_from_db()
    assert channel_figures(channel=channel).calls_text == "2 contacts · 4 calls"


def test_the_command_center_and_analytics_show_retries(scripted, clock, manager_client):
    contacts = ContactFactory.create_batch(2)
    channel = calling(contacts)
    work(channel)
    page = manager_client.get(reverse("campaigns:detail", args=[channel.campaign_id]))
    html = page.content.decode()
    assert "2 retries waiting · next at 15:10" in html
    assert "calls again after no answer, busy or voicemail, up to 3 calls 10 min apart" in html
    clock.shift(timedelta(minutes=10))
    work(channel)
    analytics = manager_client.get(reverse("campaigns:analytics", args=[channel.campaign_id]))
    assert "2 contacts · 4 calls" in analytics.content.decode()
    export = rows_of(manager_client.get(reverse("channels:export_results", args=[channel.pk])))
    assert [row[-1] for row in export] == ["calls", "2", "2"]
    history = manager_client.get(contacts[0].get_absolute_url()).content.decode()
    assert "This is call 2 to the contact" in history
    assert '<li value="1"><time datetime="2027-06-15T15:00:00+00:00"' in history
