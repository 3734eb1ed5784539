"""Template filters for a campaign's pages."""

from django import template

from campaigns import analytics

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
