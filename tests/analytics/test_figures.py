"""campaigns.analytics: every figure against a ledger the test builds."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from campaigns import analytics
from channels import dispatch
from channels.models import Channel, Delivery
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactListFactory,
    build_ledger,
    put_channel_in,
)

pytestmark = pytest.mark.django_db

DONE, FAILED, SKIPPED, INTERRUPTED, SENDING = (
    Delivery.State.DONE,
    Delivery.State.FAILED,
    Delivery.State.SKIPPED,
    Delivery.State.INTERRUPTED,
    Delivery.State.SENDING,
)


def voice_channel(**kwargs) -> Channel:
    return ChannelFactory(kind=Channel.Kind.AI_VOICE, **kwargs)


def by_outcome(figures: analytics.Figures) -> dict[str, int]:
    return {row.outcome: row.count for row in figures.outcomes}


def test_it_counts_a_voice_ledger_figure_by_figure():
    channel = voice_channel()
    build_ledger(
        channel,
        [(DONE, "answered", True)] * 3
        + [(DONE, "answered")] * 2
        + [(DONE, "voicemail", True)]
        + [(DONE, "no_answer")] * 4
        + [(DONE, "busy")]
        + [(FAILED, "failed")] * 2
        + [(SKIPPED, "")] * 2
        + [(INTERRUPTED, "")]
        + [(SENDING, "")] * 2,
    )
    channel = put_channel_in(channel, Channel.Status.RUNNING, audience_size=20)

    figures = analytics.channel_figures(channel=channel)

    assert figures.audience == 20
    assert figures.processed == 16
    assert figures.in_flight == 2
    assert figures.contacted == 11  # answered 5 + voicemail 1 + no_answer 4 + busy 1
    assert figures.skipped == 2
    assert figures.failed == 2
    assert figures.interrupted == 1
    assert figures.converted == 4
    assert figures.conversion_rate == pytest.approx(4 / 11)
    assert by_outcome(figures) == {
        "answered": 5,
        "voicemail": 1,
        "no_answer": 4,
        "busy": 1,
        "failed": 2,
        "skipped": 2,
        "interrupted": 1,
    }
    shares = {row.outcome: row.share for row in figures.outcomes}
    assert shares["no_answer"] == pytest.approx(4 / 16)
    assert sum(row.count for row in figures.outcomes) == figures.processed


def test_it_has_no_rate_and_zeros_before_any_delivery():
    channel = voice_channel(campaign=CampaignFactory(contact_list=ContactListFactory(size=7)))
    figures = analytics.channel_figures(channel=channel)
    assert figures.audience == 7  # a Ready channel's audience: its list as it stands
    assert (figures.processed, figures.contacted, figures.converted) == (0, 0, 0)
    assert figures.conversion_rate is None
    assert all(row.count == 0 and row.share is None for row in figures.outcomes)
    data = analytics.campaign_analytics(campaign=channel.campaign)
    assert data.series.labels == []
    assert data.totals.conversion_rate is None


def test_it_has_no_rate_when_every_delivery_failed():
    channel = ChannelFactory(kind=Channel.Kind.SMS)
    build_ledger(channel, [(FAILED, "failed")] * 5)
    channel = put_channel_in(channel, Channel.Status.COMPLETED, audience_size=5)
    figures = analytics.channel_figures(channel=channel)
    assert (figures.processed, figures.failed, figures.contacted) == (5, 5, 0)
    assert figures.conversion_rate is None
    assert by_outcome(figures)["failed"] == 5
    assert next(r for r in figures.outcomes if r.outcome == "failed").share == 1.0


def test_it_counts_a_stopped_channel_as_far_as_it_got():
    channel = ChannelFactory(kind=Channel.Kind.EMAIL)
    build_ledger(channel, [(DONE, "delivered", True), (DONE, "bounced"), (DONE, "delivered")])
    channel = put_channel_in(channel, Channel.Status.STOPPED, audience_size=10)
    figures = analytics.channel_figures(channel=channel)
    assert (figures.audience, figures.processed, figures.contacted) == (10, 3, 3)
    assert figures.progress_percent == 30
    assert figures.conversion_rate == pytest.approx(1 / 3)


def test_it_counts_an_email_opened_ten_times_as_one_contact(fast_engine, use_provider):
    use_provider("tests.analytics.providers.OpenedTenTimesProvider")
    campaign = CampaignFactory(contact_list=ContactListFactory(size=4))
    channel = ChannelFactory(campaign=campaign, kind=Channel.Kind.EMAIL)
    channel.start()
    channel = dispatch.run_until_idle(channel_id=channel.pk)
    figures = analytics.channel_figures(channel=channel)
    assert figures.contacted == figures.processed == figures.audience == 4
    assert by_outcome(figures)["delivered"] == 4
    assert figures.converted == 4
    assert figures.conversion_rate == 1.0


def test_it_adds_up_to_the_audience_once_an_engine_run_is_done(fast_engine):
    campaign = CampaignFactory(contact_list=ContactListFactory(size=120))
    voice = voice_channel(campaign=campaign)
    sms = ChannelFactory(campaign=campaign, kind=Channel.Kind.SMS)
    from campaigns.models import Contact

    Contact.objects.filter(pk__in=campaign.contact_list.contacts.values("pk")[:5]).update(
        opted_out_voice=True
    )
    for channel in (voice, sms):
        channel.start()
        dispatch.run_until_idle(channel_id=channel.pk)

    data = analytics.campaign_analytics(campaign=campaign)
    for row in data.channels:
        f = row.figures
        ledger = Delivery.objects.filter(channel=row.channel)
        assert row.channel.status == Channel.Status.COMPLETED
        assert f.contacted + f.failed + f.skipped + f.interrupted == f.audience == 120
        assert f.processed == ledger.count() == 120
        assert f.skipped == ledger.filter(state=SKIPPED).count()
        assert f.converted == ledger.filter(converted=True).count()
        outcomes = dict(ledger.exclude(outcome="").values_list("outcome").annotate(n=Count("id")))
        for outcome, count in outcomes.items():
            assert by_outcome(f)[outcome] == count
    assert data.channels[0].figures.skipped == 5
    totals = data.totals
    assert totals.audience == totals.processed == 240
    assert totals.converted == Delivery.objects.filter(converted=True).count()
    assert totals.contacted == sum(row.figures.contacted for row in data.channels)


def test_it_buckets_progress_per_minute_with_a_running_total():
    channel = ChannelFactory()
    start = timezone.now().replace(second=5, microsecond=0) - timedelta(minutes=10)
    build_ledger(channel, [(DONE, "delivered")] * 3, at=start)
    build_ledger(channel, [(DONE, "delivered")] * 2, at=start + timedelta(minutes=2))
    put_channel_in(channel, Channel.Status.COMPLETED, started_at=start)
    other = ChannelFactory(campaign=channel.campaign, kind=Channel.Kind.EMAIL)
    build_ledger(other, [(DONE, "delivered")], at=start + timedelta(minutes=1))
    put_channel_in(other, Channel.Status.COMPLETED, started_at=start)

    series = analytics.campaign_analytics(campaign=channel.campaign).series

    assert series.unit == "minute"
    assert len(series.labels) == 4  # the minute before the first delivery, at zero, first
    assert series.per_bucket[channel.pk] == [0, 3, 0, 2]
    assert series.cumulative[channel.pk] == [0, 3, 3, 5]
    assert series.per_bucket[other.pk] == [0, 0, 1, 0]
    assert series.cumulative[other.pk] == [0, 0, 1, 1]


def test_it_buckets_a_long_run_by_hour():
    channel = ChannelFactory()
    start = timezone.now() - timedelta(hours=20)
    build_ledger(channel, [(DONE, "delivered")], at=start)
    build_ledger(channel, [(DONE, "delivered")], at=start + timedelta(hours=19))
    put_channel_in(channel, Channel.Status.COMPLETED, started_at=start)
    series = analytics.campaign_analytics(campaign=channel.campaign).series
    assert series.unit == "hour"
    assert series.cumulative[channel.pk][-1] == 2
    assert len(series.labels) in (21, 22)


def test_it_buckets_a_short_run_by_second():
    channel = ChannelFactory()
    start = timezone.now().replace(microsecond=0) - timedelta(seconds=30)
    build_ledger(channel, [(DONE, "delivered")] * 2, at=start)
    build_ledger(channel, [(DONE, "delivered")], at=start + timedelta(seconds=2))
    put_channel_in(channel, Channel.Status.COMPLETED, started_at=start, finished_at=start)
    series = analytics.campaign_analytics(campaign=channel.campaign).series
    assert series.unit == "second"
    assert series.cumulative[channel.pk] == [0, 2, 2, 3]


def test_it_gives_the_charts_the_same_numbers_as_the_tables():
    channel = voice_channel()
    build_ledger(channel, [(DONE, "answered"), (DONE, "no_answer"), (SKIPPED, "")])
    put_channel_in(channel, Channel.Status.COMPLETED, audience_size=3)
    data = analytics.campaign_analytics(campaign=channel.campaign)
    chart = analytics.chart_data(analytics=data)
    mix = {row["key"]: row["data"] for row in chart["mix"]["outcomes"]}
    assert mix["answered"] == [1] and mix["no_answer"] == [1] and mix["skipped"] == [1]
    assert chart["progress"][0]["data"][-1] == 3
    assert chart["mix"]["channels"] == [channel.name]


def test_it_rereads_only_the_open_buckets_of_the_ledger():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    channel = ChannelFactory()
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=20)
    build_ledger(channel, [(DONE, "delivered")] * 4, at=start)
    put_channel_in(channel, Channel.Status.RUNNING, started_at=start)
    first = analytics.campaign_analytics(campaign=channel.campaign).series
    assert first.cumulative[channel.pk][-1] == 4

    build_ledger(channel, [(DONE, "delivered")] * 3)  # claimed just now
    with CaptureQueriesContext(connection) as captured:
        second = analytics.campaign_analytics(campaign=channel.campaign).series
    series_sql = [q["sql"] for q in captured if "GROUP BY" in q["sql"]]
    assert len(series_sql) == 1 and '"created_at" >=' in series_sql[0]
    assert second.cumulative[channel.pk][-1] == 7
    assert second.per_bucket[channel.pk][1] == 4  # the closed bucket, from the cache
    assert sum(second.per_bucket[channel.pk]) == Delivery.objects.filter(channel=channel).count()


def test_it_buckets_days_in_each_managers_zone_cache_or_not():
    import zoneinfo
    from datetime import UTC, datetime

    chicago = zoneinfo.ZoneInfo("America/Chicago")
    channel = ChannelFactory()
    # 03:00 UTC on the 10th is 21:00 on the 9th in Chicago.
    build_ledger(channel, [(DONE, "delivered")] * 2, at=datetime(2026, 11, 10, 3, tzinfo=UTC))
    now = datetime(2026, 11, 20, tzinfo=UTC)  # every bucket closed: all of them are cached
    with timezone.override(UTC):
        in_utc = analytics.bucket_counts(channels=[channel], unit="day", now=now)
    with timezone.override(chicago):
        in_chicago = analytics.bucket_counts(channels=[channel], unit="day", now=now)
    assert in_utc[channel.pk] == {datetime(2026, 11, 10, tzinfo=UTC): 2}
    assert in_chicago[channel.pk] == {datetime(2026, 11, 9, tzinfo=chicago): 2}
