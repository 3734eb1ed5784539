"""Figures for a campaign's Analytics section: per channel and for the whole campaign.

The headline figures come from each channel's counters, which the engine keeps equal to its
ledger in the same transaction as every delivery change (SPEC G3), so they cost nothing
however many deliveries there are. Only the progress over time reads the ledger: one
grouped query for the whole campaign on the (channel, created_at) index, counting
deliveries by when they were claimed, with the buckets that can no longer change kept in
the cache so that a poll reads only the last minute or so (`bucket_counts`).

Everything counts deliveries, one per (channel, contact), never provider events: an email
opened ten times is one delivered contact.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from itertools import accumulate

from django.core.cache import cache
from django.db import models
from django.db.models.functions import Trunc
from django.utils import timezone

from channels.breakdown import status_breakdown
from channels.figures import outcome_label, percent_done, ratio
from channels.models import Channel, Delivery
from channels.retries import retries_on

from .models import Campaign

# Outcomes that are not provider answers but states of the ledger, shown in the mix too.
STATE_ROWS = (Delivery.State.SKIPPED, Delivery.State.INTERRUPTED)
# Buckets of the progress chart: the finest unit that keeps the chart readable.
BUCKETS = (
    ("second", timedelta(minutes=5)),
    ("minute", timedelta(hours=3)),
    ("hour", timedelta(days=14)),
    ("day", None),
)
STEPS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
# No claim transaction stays open this long, so buckets older than this are final.
SETTLE = timedelta(seconds=60)
SERIES_CACHE_SECONDS = 24 * 3600
LABEL_FORMATS = {"second": "%H:%M:%S", "minute": "%H:%M", "hour": "%b %d %H:00", "day": "%b %d"}


@dataclass
class OutcomeShare:
    outcome: str
    count: int
    share: float | None  # of processed deliveries; None before any

    @property
    def label(self) -> str:
        return outcome_label(self.outcome)


@dataclass
class Figures:
    """One channel's figures (read from the channel), or a campaign's sums."""

    audience: int = 0
    processed: int = 0
    in_flight: int = 0
    contacted: int = 0
    skipped: int = 0
    failed: int = 0
    interrupted: int = 0
    converted: int = 0
    # Voice retries (channels/retries.py): calls placed after a contact's first.
    retries: int = 0
    retrying: bool = False
    outcomes: list[OutcomeShare] = field(default_factory=list)
    # Every channel completed: an empty run then reads 100 %, as on its card.
    complete: bool = False

    @property
    def conversion_rate(self) -> float | None:
        """Converted / contacted, by the rule of `Channel.conversion_rate`."""
        return ratio(self.converted, self.contacted)

    @property
    def progress_percent(self) -> int:
        """Processed / audience, by the rule of `Channel.progress_percent`."""
        return percent_done(self.processed, self.audience, complete=self.complete)

    @property
    def calls_text(self) -> str:
        """“200 contacts · 260 calls” where calls are retried: contacts handed to the
        provider and the calls placed to them, counted apart; "" elsewhere."""
        if not self.retrying:
            return ""
        contacts = self.processed + self.in_flight - self.skipped
        return f"{contacts:,} contacts · {contacts + self.retries:,} calls"


@dataclass
class ChannelAnalytics:
    channel: Channel
    figures: Figures


@dataclass
class Series:
    unit: str
    labels: list[str]
    # channel id -> deliveries per bucket, and the running total.
    per_bucket: dict[int, list[int]]
    cumulative: dict[int, list[int]]


@dataclass
class CampaignAnalytics:
    campaign: Campaign
    channels: list[ChannelAnalytics]
    totals: Figures
    series: Series

    @property
    def series_rows(self) -> list[tuple[str, list[str]]]:
        """The progress table: (time, ["deliveries (cumulative)" per channel]).

        Formatted here rather than in the template: it can have thousands of cells.
        """
        series = self.series
        columns = [
            (series.per_bucket[row.channel.pk], series.cumulative[row.channel.pk])
            for row in self.channels
        ]
        return [
            (label, [f"{per[i]:,} ({total[i]:,})" for per, total in columns])
            for i, label in enumerate(series.labels)
        ]

    @property
    def status_breakdown(self) -> str:
        """“1 running · 1 completed”, from the channels already loaded."""
        return status_breakdown(row.channel.status for row in self.channels)

    @property
    def any_running(self) -> bool:
        """Whether figures can still change: a channel runs, or a paused one has calls out."""
        return any(
            row.channel.status == Channel.Status.RUNNING
            or (row.channel.status == Channel.Status.PAUSED and row.channel.in_flight)
            for row in self.channels
        )


def channel_figures(*, channel: Channel) -> Figures:
    """A channel's figures from its counters (no query if `campaign__contact_list` is loaded)."""
    counts = channel.outcome_counts or {}
    outcome_names = [*Channel.OUTCOMES[channel.kind]]
    outcome_names += [name for name in counts if name not in outcome_names]
    by_outcome = {name: counts.get(name, 0) for name in outcome_names}
    by_outcome[Delivery.State.SKIPPED] = channel.skipped
    by_outcome[Delivery.State.INTERRUPTED] = channel.interrupted
    return Figures(
        audience=channel.audience,
        processed=channel.processed,
        in_flight=channel.in_flight,
        contacted=channel.contacted,
        skipped=channel.skipped,
        failed=channel.failed,
        interrupted=channel.interrupted,
        converted=channel.converted,
        retries=channel.retries,
        retrying=retries_on(channel),
        outcomes=shares(by_outcome, of=channel.processed),
        complete=channel.status == Channel.Status.COMPLETED,
    )


def shares(counts: dict[str, int], *, of: int) -> list[OutcomeShare]:
    return [
        OutcomeShare(outcome=name, count=count, share=count / of if of else None)
        for name, count in counts.items()
    ]


def total_figures(*, figures: list[Figures]) -> Figures:
    by_outcome: dict[str, int] = {}
    for one in figures:
        for row in one.outcomes:
            by_outcome[row.outcome] = by_outcome.get(row.outcome, 0) + row.count
    # The ledger states last, after every kind's outcomes.
    ordered = {k: v for k, v in by_outcome.items() if k not in STATE_ROWS}
    ordered.update({k: by_outcome.get(k, 0) for k in STATE_ROWS})
    total = Figures(
        **{
            name: sum(getattr(one, name) for one in figures)
            for name in (
                "audience",
                "processed",
                "in_flight",
                "contacted",
                "skipped",
                "failed",
                "interrupted",
                "converted",
                "retries",
            )
        }
    )
    total.outcomes = shares(ordered, of=total.processed)
    total.complete = bool(figures) and all(one.complete for one in figures)
    return total


def campaign_figures(*, campaign: Campaign) -> Figures:
    """A campaign's sums from `campaign.channels.all()` (no query when they are prefetched)."""
    channels = campaign.channels.all()
    return total_figures(figures=[channel_figures(channel=channel) for channel in channels])


def bucket_unit(*, start: datetime | None, end: datetime) -> str:
    span = end - (start or end)
    for unit, limit in BUCKETS:
        if limit is None or span <= limit:
            return unit
    return "day"


def bucket_steps(unit: str, *, first: datetime, last: datetime) -> list[datetime]:
    """Every bucket from the one before `first` (where the running totals are 0) to `last`."""
    steps, at = [], first - STEPS[unit]
    while at <= last:
        steps.append(at)
        at += STEPS[unit]
    return steps


def series_cache_key(channel: Channel, unit: str) -> str:
    # The creation time tells apart channels that reuse a deleted channel's id; the zone,
    # the buckets of managers in different zones (a day in Chicago is not a day in UTC).
    zone = timezone.get_current_timezone_name()
    return f"herald:series:{channel.pk}:{channel.created_at.timestamp()}:{unit}:{zone}"


def bucket_counts(*, channels: list[Channel], unit: str, now: datetime) -> dict[int, dict]:
    """channel id -> {bucket: deliveries}, reading only what the cache does not hold.

    A delivery's `created_at` is set once, when it is claimed, so a bucket that ended before
    every transaction still open can have begun never changes. Those closed buckets are kept
    in the cache; each call counts only the rows after them, a short range of the
    (channel, created_at) index, in one grouped query for all channels. So a poll costs the
    same with ten deliveries or a million.
    """
    if not channels:
        return {}
    closed_until = truncate(now - SETTLE, unit)
    cached = cache.get_many([series_cache_key(c, unit) for c in channels])
    known: dict[int, dict] = {}
    ranges = []
    for channel in channels:
        entry = cached.get(series_cache_key(channel, unit))
        known[channel.pk] = dict(entry["counts"]) if entry else {}
        ranges.append(
            models.Q(channel_id=channel.pk, created_at__gte=entry["until"])
            if entry
            else models.Q(channel_id=channel.pk)
        )
    rows = (
        Delivery.objects.filter(reduce(operator.or_, ranges))
        .annotate(bucket=Trunc("created_at", unit))
        .values_list("channel_id", "bucket")
        # COUNT(*) rather than COUNT(id): the (channel, created_at) index covers the query.
        .annotate(n=models.Count("*"))
        .order_by()
    )
    fresh: dict[int, dict] = {c.pk: {} for c in channels}
    for channel_id, bucket, n in rows:
        fresh[channel_id][bucket] = n
    for channel in channels:
        known[channel.pk].update(fresh[channel.pk])
    cache.set_many(
        {
            series_cache_key(channel, unit): {
                "until": closed_until,
                "counts": {b: n for b, n in known[channel.pk].items() if b < closed_until},
            }
            for channel in channels
        },
        timeout=SERIES_CACHE_SECONDS,
    )
    return known


def truncate(at: datetime, unit: str) -> datetime:
    """`at` cut down to the start of its bucket, in the current time zone, as Trunc does."""
    local = timezone.localtime(at).replace(microsecond=0)
    if unit != "second":
        local = local.replace(second=0)
    if unit in ("hour", "day"):
        local = local.replace(minute=0)
    if unit == "day":
        local = local.replace(hour=0)
    return local


def progress_series(*, channels: list[Channel]) -> Series:
    """Deliveries per bucket and cumulative, per channel (one query, see bucket_counts)."""
    started = [c.started_at for c in channels if c.started_at]
    now = timezone.now()
    ends = [c.finished_at or now for c in channels if c.started_at]
    unit = bucket_unit(start=min(started, default=None), end=max(ends, default=now))
    counts = bucket_counts(channels=channels, unit=unit, now=now)
    buckets = sorted({bucket for per_channel in counts.values() for bucket in per_channel})
    steps = bucket_steps(unit, first=buckets[0], last=buckets[-1]) if buckets else []
    fmt = LABEL_FORMATS[unit]
    per_bucket = {c.pk: [counts[c.pk].get(at, 0) for at in steps] for c in channels}
    return Series(
        unit=unit,
        labels=[timezone.localtime(at).strftime(fmt) for at in steps],
        per_bucket=per_bucket,
        cumulative={pk: list(accumulate(values)) for pk, values in per_bucket.items()},
    )


def campaign_analytics(*, campaign: Campaign) -> CampaignAnalytics:
    """Everything the Analytics section shows, in two queries whatever the ledger's size."""
    channels = list(
        Channel.objects.filter(campaign=campaign)
        .select_related("campaign__contact_list", "source_channel")
        .order_by("created_at", "pk")
    )
    rows = [ChannelAnalytics(channel=c, figures=channel_figures(channel=c)) for c in channels]
    return CampaignAnalytics(
        campaign=campaign,
        channels=rows,
        totals=total_figures(figures=[row.figures for row in rows]),
        series=progress_series(channels=channels),
    )


def chart_data(*, analytics: CampaignAnalytics) -> dict:
    """What static/js/analytics.js draws, for a json_script block."""
    return {
        "unit": analytics.series.unit,
        "labels": analytics.series.labels,
        "progress": [
            {
                "label": row.channel.name,
                "data": analytics.series.cumulative.get(row.channel.pk, []),
            }
            for row in analytics.channels
        ],
        "mix": mix_data(analytics=analytics),
    }


def mix_data(*, analytics: CampaignAnalytics) -> dict:
    """The outcome mix as a stacked bar: one bar per channel, one segment per outcome."""
    names = list(
        dict.fromkeys(o.outcome for row in analytics.channels for o in row.figures.outcomes)
    )
    by_channel = [{o.outcome: o.count for o in row.figures.outcomes} for row in analytics.channels]
    return {
        "channels": [row.channel.name for row in analytics.channels],
        "outcomes": [
            {
                "key": name,
                "label": outcome_label(name),
                "data": [c.get(name, 0) for c in by_channel],
            }
            for name in names
        ],
    }


RESULT_HEADER = [
    "contact name",
    "phone",
    "email",
    "channel",
    "kind",
    "state",
    "outcome",
    "converted",
    "created",
    "finished",
    "calls",
]
RESULT_COLUMNS = (
    "contact__name",
    "contact__phone",
    "contact__email",
    "channel__name",
    "channel__kind",
    "state",
    "outcome",
    "converted",
    "created_at",
    "finished_at",
    "attempts",
)


def result_rows(*, deliveries: models.QuerySet[Delivery]) -> Iterator[list]:
    """The results CSV: a header, then a row per delivery, read 2,000 at a time (streamed)."""
    yield RESULT_HEADER
    columns = deliveries.order_by("pk").values_list(*RESULT_COLUMNS)
    kinds = dict(Channel.Kind.choices)
    for row in columns.iterator(chunk_size=2000):
        *contact, channel, kind, state, outcome, converted, created, finished, attempts = row
        # Labels, as every page shows them (“No answer”, not `no_answer`).
        yield [
            *contact,
            channel,
            kinds.get(kind, kind),
            outcome_label(state),
            outcome_label(outcome) if outcome else "",
            "yes" if converted else "no",
            created.isoformat(),
            finished.isoformat() if finished else "",
            # Calls or messages placed to the contact: several when a voice call was retried.
            0 if state == Delivery.State.SKIPPED else attempts,
        ]
