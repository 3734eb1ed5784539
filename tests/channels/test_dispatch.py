"""The dispatcher in this process: every guarantee that does not need several workers."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from channels import dispatch
from channels.models import Channel, Delivery
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory
from tests.providers import FlakyProvider, RecordingProvider

pytestmark = pytest.mark.django_db


def ledger_counters(channel: Channel) -> dict:
    deliveries = Delivery.objects.filter(channel=channel)
    outcomes = dict(deliveries.exclude(outcome="").values_list("outcome").annotate(n=Count("id")))
    in_flight = [Delivery.State.SENDING, Delivery.State.ACCEPTED]
    return {
        "processed": deliveries.exclude(state__in=in_flight).count(),
        "in_flight": deliveries.filter(state__in=in_flight).count(),
        "skipped": deliveries.filter(state=Delivery.State.SKIPPED).count(),
        "interrupted": deliveries.filter(state=Delivery.State.INTERRUPTED).count(),
        "converted": deliveries.filter(converted=True).count(),
        "outcome_counts": outcomes,
    }


def counters(channel: Channel) -> dict:
    channel.refresh_from_db()
    return {key: getattr(channel, key) for key in ledger_counters(channel)}


def started_channel(size: int = 30, **kwargs) -> Channel:
    contact_list = ContactListFactory(size=size)
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=contact_list), **kwargs)
    channel.start()
    return channel


def test_it_contacts_every_audience_contact_once_and_completes(fast_engine):
    channel = started_channel(size=1234)
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    assert channel.status == Channel.Status.COMPLETED
    assert Delivery.objects.filter(channel=channel).count() == 1234
    assert channel.processed == channel.audience_size == 1234
    assert counters(channel) == ledger_counters(channel)
    assert channel.campaign.status == "completed"


def test_it_skips_opted_out_contacts_and_missing_addresses(fast_engine, use_provider):
    use_provider("tests.providers.RecordingProvider")
    RecordingProvider.reset()
    contact_list = ContactListFactory(size=5)
    opted_out = ContactFactory(opted_out_sms=True)
    no_phone = ContactFactory(phone="")
    email_opt_out = ContactFactory(opted_out_email=True)  # other kind: still texted
    contact_list.add_contacts([opted_out.pk, no_phone.pk, email_opt_out.pk])
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=contact_list))
    channel.start()
    channel = dispatch.run_until_idle(channel_id=channel.pk)

    assert channel.status == Channel.Status.COMPLETED
    skipped = Delivery.objects.filter(channel=channel, state=Delivery.State.SKIPPED)
    assert set(skipped.values_list("contact_id", flat=True)) == {opted_out.pk, no_phone.pk}
    sent_to = {message.contact_id for message in RecordingProvider.sent}
    assert opted_out.pk not in sent_to and no_phone.pk not in sent_to
    assert email_opt_out.pk in sent_to
    assert len(sent_to) == len(RecordingProvider.sent) == 6
    assert counters(channel) == ledger_counters(channel)


def test_it_records_provider_errors_as_failed_deliveries(fast_engine, use_provider):
    use_provider("tests.providers.FlakyProvider")
    channel = dispatch.run_until_idle(channel_id=started_channel(size=300).pk)
    assert channel.status == Channel.Status.COMPLETED
    failed = Delivery.objects.filter(channel=channel, state=Delivery.State.FAILED)
    expected = {
        d.contact_id
        for d in Delivery.objects.filter(channel=channel)
        if FlakyProvider.fails(d.contact_id)
    }
    assert expected and set(failed.values_list("contact_id", flat=True)) == expected
    assert all("gateway refused" in error for error in failed.values_list("error", flat=True))
    assert Delivery.objects.filter(channel=channel, state=Delivery.State.DONE).count() == (
        300 - len(expected)
    )
    assert counters(channel) == ledger_counters(channel)


def test_it_renders_the_template_for_each_contact(fast_engine, use_provider):
    use_provider("tests.providers.RecordingProvider")
    RecordingProvider.reset()
    contact_list = ContactListFactory()
    ada = ContactFactory(name="Ada Lovelace", attributes={"city": "London"})
    contact_list.add_contacts([ada.pk])
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list),
        sms_template="Hi {first_name} from {city}{unknown}",
    )
    channel.start()
    dispatch.run_until_idle(channel_id=channel.pk)
    assert RecordingProvider.sent[0].content["text"] == "Hi Ada from London"
    assert RecordingProvider.sent[0].to == ada.phone


def test_it_does_not_contact_people_who_joined_the_list_after_start(fast_engine):
    channel = started_channel(size=10)
    late = ContactFactory()
    channel.campaign.contact_list.add_contacts([late.pk])
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    assert channel.status == Channel.Status.COMPLETED
    assert not Delivery.objects.filter(channel=channel, contact=late).exists()
    assert channel.processed == 10


def test_it_claims_nothing_once_paused_and_goes_on_after_resume(fast_engine):
    channel = started_channel(size=50)
    generation = Channel.objects.get(pk=channel.pk).dispatch_generation
    first = dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=10)
    assert len(first.to_send) == 10
    channel.pause()
    refused = dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=10)
    assert not refused.running and refused.to_send == []
    assert Delivery.objects.filter(channel=channel).count() == 10

    channel.resume()
    channel = dispatch.run_until_idle(channel_id=channel.pk, timeout=0.5)
    # The ten claimed before the pause stay in flight: the channel waits for them.
    assert channel.status == Channel.Status.RUNNING and channel.in_flight == 10
    dispatch.record_answers(
        channel_id=channel.pk,
        kind=channel.kind,
        answers=[(m, dispatch.provider_for("sms").try_send(m)) for m in first.to_send],
    )
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    assert channel.status == Channel.Status.COMPLETED
    assert Delivery.objects.filter(channel=channel).count() == 50
    assert counters(channel) == ledger_counters(channel)


def test_a_claim_leases_what_it_sends_and_finishes_what_it_skips(fast_engine, settings):
    contact_list = ContactListFactory(size=0)
    reachable, opted_out = ContactFactory(), ContactFactory(opted_out_sms=True)
    contact_list.add_contacts([reachable.pk, opted_out.pk])
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=contact_list))
    channel.start()
    generation = Channel.objects.get(pk=channel.pk).dispatch_generation
    before = timezone.now()
    claim = dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=10)
    after = timezone.now()

    assert [message.contact_id for message in claim.to_send] == [reachable.pk]
    sending = Delivery.objects.get(channel=channel, contact=reachable)
    skipped = Delivery.objects.get(channel=channel, contact=opted_out)
    lease = timedelta(seconds=settings.HERALD_ENGINE["lease_seconds"])
    assert sending.state == Delivery.State.SENDING and sending.finished_at is None
    assert before + lease <= sending.lease_expires_at <= after + lease
    assert skipped.state == Delivery.State.SKIPPED and skipped.lease_expires_at is None
    assert skipped.finished_at == skipped.created_at == sending.created_at
    assert before <= skipped.finished_at <= after
    assert skipped.error == "Opted out of SMS Blast."
    assert (sending.outcome, sending.provider_id, sending.details) == ("", "", {})


def test_a_provider_error_with_a_nul_in_it_is_recorded_without_it(fast_engine):
    channel = started_channel(size=2)
    generation = Channel.objects.get(pk=channel.pk).dispatch_generation
    claim = dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=2)
    bad, good = claim.to_send
    dispatch.record_answers(
        channel_id=channel.pk,
        kind=channel.kind,
        answers=[
            (bad, RuntimeError("gateway said \x00nothing")),
            (good, dispatch.provider_for("sms").try_send(good)),
        ],
    )
    failed = Delivery.objects.get(pk=bad.delivery_id)
    assert failed.state == Delivery.State.FAILED
    assert failed.error == "RuntimeError: gateway said nothing"
    assert Delivery.objects.get(pk=good.delivery_id).state != Delivery.State.SENDING
    assert counters(channel) == ledger_counters(channel)


def test_it_ignores_a_chain_of_an_older_generation(fast_engine):
    channel = started_channel(size=5)
    stale = Channel.objects.get(pk=channel.pk).dispatch_generation - 1
    claim = dispatch.claim_batch(channel_id=channel.pk, generation=stale, limit=5)
    assert not claim.running
    assert not Delivery.objects.filter(channel=channel).exists()


def test_it_interrupts_expired_claims_and_still_records_a_late_answer(fast_engine):
    fast_engine.HERALD_ENGINE = {**fast_engine.HERALD_ENGINE, "lease_seconds": -1}
    channel = started_channel(size=3)
    generation = Channel.objects.get(pk=channel.pk).dispatch_generation
    claim = dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=3)
    assert dispatch.sweep_expired(channel_id=channel.pk) == 3
    assert counters(channel)["interrupted"] == 3
    assert counters(channel) == ledger_counters(channel)

    late = claim.to_send[:1]
    dispatch.record_answers(
        channel_id=channel.pk,
        kind=channel.kind,
        answers=[(m, dispatch.provider_for("sms").try_send(m)) for m in late],
    )
    assert counters(channel)["interrupted"] == 2
    assert counters(channel) == ledger_counters(channel)
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    assert channel.status == Channel.Status.COMPLETED
    assert Delivery.objects.filter(channel=channel).count() == 3


def test_it_keeps_voice_calls_under_max_concurrent(fast_engine, use_provider):
    use_provider("tests.providers.slow_recording")
    RecordingProvider.reset()
    channel = started_channel(size=40, kind=Channel.Kind.AI_VOICE, max_concurrent=4)
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    assert channel.status == Channel.Status.COMPLETED
    assert RecordingProvider.max_active == 4
    assert len(RecordingProvider.sent) == 40


def test_it_never_claims_more_than_max_per_second(fast_engine):
    channel = started_channel(size=25, max_per_second=10)
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    assert channel.status == Channel.Status.COMPLETED
    times = sorted(Delivery.objects.filter(channel=channel).values_list("created_at", flat=True))
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if (t - start).total_seconds() < 1]
        assert len(in_window) <= 10


def test_it_completes_an_empty_audience_at_once(fast_engine):
    channel = started_channel(size=0)
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    assert channel.status == Channel.Status.COMPLETED
    assert channel.progress_percent == 100


def test_it_works_a_remarketing_audience_exactly(fast_engine):
    from channels.models import AudienceMember

    channel = started_channel(size=20)
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    chosen = list(channel.campaign.contact_list.contacts.all()[:7])
    follow_up = ChannelFactory(
        campaign=channel.campaign, source_channel=channel, source_outcomes=["delivered"]
    )
    AudienceMember.objects.bulk_create(
        [AudienceMember(channel=follow_up, contact=contact) for contact in chosen]
    )
    Channel.objects.filter(pk=follow_up.pk).update(audience_size=len(chosen))
    follow_up.start()
    follow_up = dispatch.run_until_idle(channel_id=follow_up.pk)
    assert follow_up.status == Channel.Status.COMPLETED
    assert set(
        Delivery.objects.filter(channel=follow_up).values_list("contact_id", flat=True)
    ) == {c.pk for c in chosen}
