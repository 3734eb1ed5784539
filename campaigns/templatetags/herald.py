"""Template filters for Herald's pages."""

from django import template

from channels import progress

register = template.Library()


@register.filter
def campaign_progress(campaign) -> progress.Progress:
    return progress.campaign_progress(campaign)


@register.filter
def outcome_rows(channel) -> list[tuple[str, int]]:
    return progress.outcome_rows(channel)


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


PAST_TENSE = {"stop": "stopped", "add": "added", "edit": "edited", "create": "created"}


@register.filter
def past_tense(action: str) -> str:
    """The activity log's verbs: “start” → “started”."""
    return PAST_TENSE.get(action, action + "d" if action.endswith("e") else action + "ed")
