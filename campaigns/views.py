from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from channels.models import AlreadyDone, Channel, InvalidTransition
from channels.supervisor import flag_unserved

from .command_center import (
    ACTIVITY_PAGE,
    ACTIVITY_SHOWN,
    CHANGED_EVENT,
    get_campaign_for_user,
    live_context,
    render_live,
)
from .filters import CampaignFilter, with_status_rank
from .forms import CampaignForm
from .models import ActivityEvent, Campaign

PAGE_SIZE = 25
DONE_MESSAGES = {
    "archive": "“{name}” is archived. It has left the main list; find it under Archived.",
    "unarchive": "“{name}” is back among the completed campaigns.",
}


def wants_fragment(request: HttpRequest) -> bool:
    # A history restore after a cache miss needs the whole page, not the fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_safe
@vary_on_headers("HX-Request")
def campaign_list(request: HttpRequest) -> HttpResponse:
    # Only what a row shows (the list never reads a channel's content fields).
    channels = Channel.objects.only(
        *("campaign_id", "kind", "name", "status", "processed", "audience_size", "started_at"),
        *("in_flight", "skipped", "interrupted", "converted", "outcome_counts"),
        *("source_channel_id", "source_outcomes", "lane_heartbeats"),
        *("retries", "max_attempts", "retry_outcomes"),
    ).order_by("created_at", "pk")
    campaigns = with_status_rank(
        Campaign.objects.select_related("created_by", "contact_list")
    ).prefetch_related(Prefetch("channels", queryset=channels))
    filters = CampaignFilter(request.GET, queryset=campaigns)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    flag_unserved(
        [channel for campaign in page for channel in campaign.channels.all()], now=timezone.now()
    )
    template = "campaigns/list.html#results" if wants_fragment(request) else "campaigns/list.html"
    return render(request, template, {"filter": filters, "page": page})


@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("campaigns.add_campaign"):
        raise PermissionDenied
    form = CampaignForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        with transaction.atomic():
            campaign = form.save(commit=False)
            campaign.created_by = request.user
            campaign.save()
            ActivityEvent.record(actor=request.user, action="create", campaign=campaign)
        messages.success(request, f"Campaign “{campaign.name}” created. Now add its channels.")
        return redirect("campaigns:add_channel", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, pk, perm="campaigns.change_campaign")
    form = CampaignForm(request.POST if request.method == "POST" else None, instance=campaign)
    context = {"form": form, "campaign": campaign}
    try:
        # An archived campaign is read-only, its name too (SPEC section 3), as for a channel.
        campaign.refuse_if_archived()
        if form.is_valid():
            with transaction.atomic():
                Campaign.objects.lock_for_change(campaign.pk)
                form.save()
                ActivityEvent.record(actor=request.user, action="edit", campaign=campaign)
            messages.success(request, f"Campaign “{campaign.name}” saved.")
            return redirect(campaign)
    except InvalidTransition as exc:
        return render(request, "campaigns/form.html", {**context, "refusal": str(exc)}, status=409)
    return render(request, "campaigns/form.html", context)


@require_safe
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, pk)
    activity = campaign.activity.select_related("actor")[:ACTIVITY_SHOWN]
    context = live_context(campaign, activity=activity, tab="channels")
    return render(request, "campaigns/detail.html", context)


@require_safe
def campaign_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled partial: fast while something runs, slow while nothing does. When that
    changed since the page's last refresh (`was`), the Activity section reloads too."""
    campaign = get_campaign_for_user(request, pk)
    context = live_context(campaign)
    response = render(request, "campaigns/detail.html#live", context)
    now = "running" if context["polling"] else "idle"
    if request.htmx and request.GET.get("was", now) != now:
        response["HX-Trigger"] = CHANGED_EVENT
    return response


@require_safe
def campaign_activity(request: HttpRequest, pk: int) -> HttpResponse:
    """The Activity tab: the whole log, paginated; for htmx, the recent-activity section of
    the Channels tab (it reloads itself after every change)."""
    campaign = get_campaign_for_user(request, pk)
    log = campaign.activity.select_related("actor")
    if request.htmx:
        context = {"campaign": campaign, "activity": log[:ACTIVITY_SHOWN]}
        return render(request, "campaigns/detail.html#activity", context)
    page = Paginator(log, ACTIVITY_PAGE).get_page(request.GET.get("page"))
    context = {"campaign": campaign, "page": page, "tab": "activity", "channels": None}
    return render(request, "campaigns/detail.html", context)


def act_on_campaign(request: HttpRequest, campaign: Campaign, action: str) -> HttpResponse:
    """Archive or unarchive: already done is a no-op with a message, impossible is a 409."""
    try:
        getattr(campaign, action)(by=request.user)
    except AlreadyDone as exc:
        messages.info(request, str(exc))
    except InvalidTransition as exc:
        return render_live(request, campaign, status=409, campaign_error=str(exc))
    else:
        messages.success(request, DONE_MESSAGES[action].format(name=campaign.name))
    return render_live(request, campaign)


@require_http_methods(["GET", "POST"])
def campaign_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for the confirmation (the page works without JavaScript); POST archives."""
    campaign = get_campaign_for_user(request, pk, perm="campaigns.archive_campaign")
    if request.method == "POST":
        return act_on_campaign(request, campaign, "archive")
    context = {"campaign": campaign, "refusal": campaign.refusal("archive")}
    return render(request, "campaigns/archive.html", context)


@require_POST
def campaign_unarchive(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, pk, perm="campaigns.archive_campaign")
    return act_on_campaign(request, campaign, "unarchive")


@require_http_methods(["GET", "POST"])
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET names what will go; POST removes it all (the contacts stay)."""
    campaign = get_campaign_for_user(request, pk, perm="campaigns.delete_campaign")
    context = {"campaign": campaign, "summary": campaign.deletion_summary()}
    if request.method == "GET":
        running = not campaign.can_delete()
        return render(request, "campaigns/delete.html", {**context, "running": running})
    try:
        campaign.delete_everything(by=request.user)
    except InvalidTransition as exc:
        context |= {"running": True, "error": str(exc)}
        return render(request, "campaigns/delete.html", context, status=409)
    messages.success(request, f"Campaign “{campaign.name}” and its channels are deleted.")
    return redirect("campaigns:list")
