"""manage.py seed_demo: demo campaigns in every status, made without touching the settings."""

import copy
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from campaigns.models import Campaign
from channels.models import Channel, Delivery
from channels.providers import SimulatedProvider

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", stdout=StringIO())


def test_it_seeds_campaigns_in_every_status():
    seed()
    statuses = dict(Campaign.objects.values_list("name", "status"))
    assert statuses == {
        "Spring Collection Launch": Campaign.Status.DRAFT,
        "Autumn Check-in": Campaign.Status.COMPLETED,
        "Black Friday Blast": Campaign.Status.COMPLETED,
        "Summer Survey": Campaign.Status.ARCHIVED,
        "Winter Loyalty Drive": Campaign.Status.ACTIVE,
    }
    for channel in Channel.objects.filter(campaign__name="Autumn Check-in"):
        assert channel.status == Channel.Status.COMPLETED
        assert channel.processed == channel.audience_size > 0
        assert channel.max_per_second == {"ai_voice": 5, "sms": 20, "email": 50}[channel.kind]


def test_it_changes_nothing_the_second_time():
    seed()
    before = (Campaign.objects.count(), Channel.objects.count(), Delivery.objects.count())
    seed()
    assert (Campaign.objects.count(), Channel.objects.count(), Delivery.objects.count()) == before


def test_it_runs_an_instant_simulator_without_assigning_to_settings(monkeypatch):
    configured = copy.deepcopy(settings.HERALD_SIMULATOR)
    assert any(configured["latency"].values())
    seen = []
    real_send_many = SimulatedProvider.send_many

    def spy(provider, messages):
        seen.extend(
            (provider.outcome_delay, copy.deepcopy(settings.HERALD_SIMULATOR)) for _ in messages
        )
        return real_send_many(provider, messages)

    monkeypatch.setattr(SimulatedProvider, "send_many", spy)
    seed()
    assert len(seen) > 100
    assert {latency for latency, _ in seen} == {0.0}
    assert all(simulator == configured for _, simulator in seen)
    assert configured == settings.HERALD_SIMULATOR


def test_it_leaves_a_channel_running_slowly_enough_to_watch():
    seed()
    running = Channel.objects.get(status=Channel.Status.RUNNING)
    assert running.campaign.name == "Winter Loyalty Drive"
    assert running.kind == Channel.Kind.AI_VOICE
    # The engine never exceeds these (SPEC G7): 200 calls one a second at most, one at a time,
    # still run minutes after `make run` starts its worker.
    assert (running.max_per_second, running.max_concurrent) == (1, 1)
    assert running.audience_size / running.max_per_second >= 180


def test_it_describes_the_demo_in_the_products_words():
    seed()
    for description in Campaign.objects.values_list("description", flat=True):
        assert "`" not in description and "make run" not in description
        assert "worker" not in description
