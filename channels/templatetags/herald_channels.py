"""Filters of a channel's pages: its card on the command center, its results, remarketing."""

from django import template

from channels import figures, progress
from channels.models import Channel
from channels.remarketing import describe_follow_up

register = template.Library()


@register.filter
def outcome_rows(channel: Channel) -> list[tuple[str, int]]:
    return progress.outcome_rows(channel)


@register.filter
def channel_figures(channel: Channel):
    """The channel's figures as Analytics shows them (from its counters, no query)."""
    from campaigns.analytics import channel_figures

    return channel_figures(channel=channel)


@register.filter
def time_left(seconds: int | None) -> str:
    """“about 4 min left”, rounded the way a person would say it."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min left"


@register.filter
def follow_up_description(channel: Channel) -> str:
    """“Follow-up of AI Voice · no answer, voicemail”, or "" for a list-based channel."""
    return describe_follow_up(channel=channel)


@register.filter
def get_count(counts: dict, key: str) -> dict:
    """`form.counts|get_count:"no_answer"` -> {"all": n, "unconverted": n}."""
    return counts.get(key, {"all": 0, "unconverted": 0})


@register.filter
def outcome_label(key: str) -> str:
    """“No answer” for `no_answer`; "" for a delivery without an outcome yet."""
    return figures.outcome_label(key) if key else ""
