"""Template filters for a campaign's pages."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from campaigns import analytics, dates

register = template.Library()


@register.filter
def campaign_figures(campaign) -> analytics.Figures:
    """The campaign's sums over its prefetched channels (the list's progress and rate)."""
    return analytics.campaign_figures(campaign=campaign)


PAST_TENSE = {"stop": "stopped", "add": "added", "edit": "edited", "create": "created"}


@register.filter
def past_tense(action: str) -> str:
    """The activity log's verbs: “start” → “started”."""
    return PAST_TENSE.get(action, action + "d" if action.endswith("e") else action + "ed")


@register.filter
def any_active(campaigns) -> bool:
    """Whether a campaign among these is active: the list then refreshes faster."""
    return any(campaign.status == campaign.Status.ACTIVE for campaign in campaigns)


@register.filter
def when(value: datetime | None) -> str:
    """Every moment a page shows: `<time>` in the manager's zone, its UTC on hover."""
    if not value:
        return ""  # a moment not reached yet (or, in a template, a missing variable)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        dates.format_utc(value),
        dates.format_when(value),
    )


@register.filter
def in_utc(value: datetime | None) -> str:
    """“15:00 UTC”, beside a moment shown in the manager's zone."""
    return dates.format_utc(value) if value else ""


@register.simple_tag
def current_zone() -> str:
    """The zone the page's times are in (the manager's, else TIME_ZONE): say it by them."""
    return timezone.get_current_timezone_name()


@register.simple_tag
def now_when() -> str:
    return when(timezone.now())
