"""Filters of the Analytics section: rates as words, remarketing descriptions."""

from django import template

from campaigns.analytics import conversion_rate_of
from channels.models import Channel
from channels.remarketing import describe_follow_up

register = template.Library()


@register.filter
def rate(value: float | None) -> str:
    """0.125 -> "12.5%"; None (nobody contacted yet) -> "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


@register.filter
def conversion_rate(campaign) -> float | None:
    """A campaign's conversion rate from its prefetched channels' counters."""
    return conversion_rate_of(campaign.channels.all())


@register.filter
def follow_up_description(channel: Channel) -> str:
    """“Follow-up of AI Voice · no answer, voicemail”, or "" for a list-based channel."""
    return describe_follow_up(channel=channel)


@register.filter
def get_count(counts: dict, key: str) -> dict:
    """`form.counts|get_count:"no_answer"` -> {"all": n, "unconverted": n}."""
    return counts.get(key, {"all": 0, "unconverted": 0})


@register.filter
def num(value: int | None) -> str:
    """1204 -> "1,204": like humanize's intcomma, cheap enough for a table of a thousand cells."""
    return "" if value is None else f"{int(value):,}"
