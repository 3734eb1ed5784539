"""A failing provider: 429 slows the channel down; a provider failing most sends pauses it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ActivityEvent
from channels import dispatch
from channels.models import Channel, Delivery
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def started(size: int, **fields) -> Channel:
    contact_list = ContactListFactory(size=size)
    channel = ChannelFactory(campaign=CampaignFactory(contact_list=contact_list), **fields)
    channel.start()
    return channel


def claim(channel: Channel, limit: int = 100) -> dispatch.Claim:
    generation = Channel.objects.get(pk=channel.pk).dispatch_generation
    return dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=limit)


@pytest.fixture
def small_window(fast_engine):
    fast_engine.HERALD_ENGINE = {**fast_engine.HERALD_ENGINE, "error_window": 10, "batch_size": 10}
    return fast_engine


def test_it_pauses_a_channel_whose_provider_fails_most_sends(small_window, use_provider):
    use_provider("tests.providers.BrokenProvider")
    channel = started(size=200, max_per_second=1000)
    channel = dispatch.run_until_idle(channel_id=channel.pk, timeout=5)
    assert channel.status == Channel.Status.PAUSED
    assert "10 of the last 10 sends failed" in channel.pause_reason
    assert "401 Unauthorized" in channel.pause_reason
    # It stopped early instead of burning through the list.
    assert Delivery.objects.filter(channel=channel).count() == 10
    event = ActivityEvent.objects.filter(channel=channel, action="pause").get()
    assert event.actor is None and "401 Unauthorized" in event.message


def test_it_shows_why_it_paused_on_the_card_until_resumed(
    small_window, use_provider, manager_client
):
    use_provider("tests.providers.BrokenProvider")
    channel = dispatch.run_until_idle(channel_id=started(size=50).pk, timeout=5)
    page = manager_client.get(reverse("campaigns:detail", args=[channel.campaign_id]))
    assert 'class="alert pause-reason"' in page.content.decode()
    assert "sends failed at the provider" in page.content.decode()
    use_provider("tests.providers.RecordingProvider")
    channel.resume()
    channel.refresh_from_db()
    assert channel.pause_reason == ""
    page = manager_client.get(reverse("campaigns:detail", args=[channel.campaign_id]))
    assert 'class="alert pause-reason"' not in page.content.decode()


def test_it_does_not_pause_for_a_few_failures(small_window, use_provider):
    use_provider("tests.providers.FlakyProvider")  # one contact in ten
    channel = dispatch.run_until_idle(channel_id=started(size=100).pk, timeout=5)
    assert channel.status == Channel.Status.COMPLETED
    assert channel.pause_reason == ""


def test_it_turns_off_with_a_zero_threshold(fast_engine, use_provider):
    fast_engine.HERALD_ENGINE = {**fast_engine.HERALD_ENGINE, "error_threshold": 0.0}
    use_provider("tests.providers.BrokenProvider")
    channel = dispatch.run_until_idle(channel_id=started(size=60).pk, timeout=5)
    assert channel.status == Channel.Status.COMPLETED
    assert Delivery.objects.filter(channel=channel, state="failed").count() == 60


def test_a_429_fails_that_send_and_holds_the_channel_back(fast_engine, use_provider):
    use_provider("tests.providers.RateLimitingProvider")
    channel = started(size=20)
    first = claim(channel, limit=3)
    answers = dispatch.provider_for("sms").send_many(first.to_send)
    dispatch.record_answers(
        channel_id=channel.pk, kind="sms", answers=list(zip(first.to_send, answers, strict=True))
    )
    channel.refresh_from_db()
    assert channel.throttled_until > timezone.now()
    assert set(Delivery.objects.values_list("state", flat=True)) == {"failed"}
    assert "429" in Delivery.objects.first().error
    held = claim(channel)
    assert held.running and held.to_send == [] and 4 <= held.retry_in <= 5
    Channel.objects.filter(pk=channel.pk).update(throttled_until=timezone.now())
    assert len(claim(channel).to_send) == 17
