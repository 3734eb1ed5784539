"""campaigns.analytics.with_conversion_rate: the campaign list's rate, in one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import analytics
from campaigns.models import Campaign
from channels.models import Channel, Delivery
from tests.factories import CampaignFactory, ChannelFactory, build_ledger

pytestmark = pytest.mark.django_db


def test_it_annotates_each_campaign_with_converted_over_contacted():
    busy = CampaignFactory(name="busy")
    voice = ChannelFactory(campaign=busy, kind=Channel.Kind.AI_VOICE)
    sms = ChannelFactory(campaign=busy, kind=Channel.Kind.SMS)
    build_ledger(
        voice,
        [(Delivery.State.DONE, "answered", True), (Delivery.State.DONE, "no_answer")]
        + [(Delivery.State.DONE, "failed")]  # a provider answer that reached nobody
        + [(Delivery.State.SKIPPED, ""), (Delivery.State.INTERRUPTED, "")],
    )
    build_ledger(
        sms, [(Delivery.State.DONE, "delivered", True)] * 2 + [(Delivery.State.FAILED, "failed")]
    )
    silent = CampaignFactory(name="silent")
    build_ledger(ChannelFactory(campaign=silent), [(Delivery.State.FAILED, "failed")])
    empty = CampaignFactory(name="empty")

    with CaptureQueriesContext(connection) as captured:
        rows = {c.name: c for c in analytics.with_conversion_rate(Campaign.objects.all())}
    assert len(captured) == 1

    voice.refresh_from_db()
    sms.refresh_from_db()
    assert rows["busy"].contacted_total == voice.contacted + sms.contacted == 4
    assert rows["busy"].converted_total == 3
    assert rows["busy"].conversion_rate == pytest.approx(3 / 4)
    assert rows["silent"].contacted_total == 0 and rows["silent"].conversion_rate is None
    assert rows["empty"].conversion_rate is None and rows["empty"].converted_total == 0
    assert empty.pk in {c.pk for c in rows.values()}


def test_it_keeps_filters_and_ordering_of_the_queryset():
    for name in ("a", "b", "c"):
        CampaignFactory(name=name)
    names = analytics.with_conversion_rate(
        Campaign.objects.exclude(name="b").order_by("name")
    ).values_list("name", flat=True)
    assert list(names) == ["a", "c"]


def test_it_renders_the_link_include_with_the_rate():
    from django.template.loader import render_to_string

    campaign = CampaignFactory()
    build_ledger(ChannelFactory(campaign=campaign), [(Delivery.State.DONE, "delivered", True)])
    annotated = analytics.with_conversion_rate(Campaign.objects.filter(pk=campaign.pk)).get()
    html = render_to_string("campaigns/_analytics_link.html", {"campaign": annotated})
    assert f'href="/campaigns/{campaign.pk}/analytics/"' in html and "100.0%" in html
    plain = render_to_string("campaigns/_analytics_link.html", {"campaign": campaign})
    assert "conversion" not in plain
