"""bench.analytics: the analytics figure of `make bench`, run small."""

import pytest

from bench.analytics import bench_analytics, build_campaign
from campaigns import analytics
from channels.models import Channel, Delivery

pytestmark = pytest.mark.django_db


def test_it_builds_a_ledger_the_counters_agree_with():
    campaign = build_campaign(channels=3, deliveries=300, name="bench test")
    data = analytics.campaign_analytics(campaign=campaign)
    assert len(data.channels) == 3
    assert Delivery.objects.filter(channel__campaign=campaign).count() == 300
    for row in data.channels:
        f = row.figures
        assert row.channel.status == Channel.Status.COMPLETED
        assert f.processed == f.audience == 100
        assert f.contacted + f.failed + f.skipped + f.interrupted == f.audience
        assert f.converted == Delivery.objects.filter(channel=row.channel, converted=True).count()
    assert data.series.cumulative[data.channels[0].channel.pk][-1] == 100


def test_it_times_the_partial_and_counts_its_queries():
    result = bench_analytics(deliveries=400)
    assert set(result) == {"big_ms", "big_first_ms", "small_ms", "queries_big", "queries_small"}
    assert result["queries_big"] == result["queries_small"]
    assert result["big_ms"] > 0 and result["small_ms"] > 0
