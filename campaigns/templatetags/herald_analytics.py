"""Filters of the Analytics section: figures as words."""

from django import template

register = template.Library()


@register.filter
def rate(value: float | None) -> str:
    """0.125 -> "12.5%"; None (nobody contacted yet) -> "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


@register.filter
def num(value: int | None) -> str:
    """1204 -> "1,204": like humanize's intcomma, cheap enough for a table of a thousand cells."""
    return "" if value is None else f"{int(value):,}"
