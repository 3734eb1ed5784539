"""The command center (a campaign's page): what the campaign and the channel views share.

Fetching a campaign for the person asking, and the live section, which is both the polled
partial and the answer to every action taken on the page (archive, start, pause, ...).
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from channels.progress import is_live, load_live_channels

from .models import Campaign

# The Channels tab shows the latest events; the Activity tab pages through all of them.
ACTIVITY_SHOWN = 10
ACTIVITY_PAGE = 50
# Sent with every response that changed something, so the Activity section reloads itself.
CHANGED_EVENT = "herald:changed"


def get_campaign_for_user(
    request: HttpRequest, pk: int, *, perm: str = "campaigns.view_campaign"
) -> Campaign:
    if not request.user.has_perm(perm):
        raise PermissionDenied
    return get_object_or_404(Campaign.objects.select_related("contact_list", "created_by"), pk=pk)


def live_context(campaign: Campaign, **extra) -> dict:
    """What the `live` partial needs: a fixed number of queries, however many channels and
    deliveries (channels.progress.load_live_channels says which)."""
    channels = load_live_channels(campaign, now=timezone.now())
    return {
        "campaign": campaign,
        "channels": channels,
        "polling": any(is_live(channel) for channel in channels),
        **extra,
    }


def render_live(
    request: HttpRequest, campaign: Campaign, *, status: int = 200, **extra
) -> HttpResponse:
    """The answer to an action: the fresh live partial for htmx, else the page itself."""
    if request.htmx:
        context = live_context(campaign, **extra)
        response = render(request, "campaigns/detail.html#live", context, status=status)
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    if status == 200:
        return redirect(campaign)
    activity = campaign.activity.select_related("actor")[:ACTIVITY_SHOWN]
    context = live_context(campaign, activity=activity, tab="channels", **extra)
    return render(request, "campaigns/detail.html", context, status=status)
