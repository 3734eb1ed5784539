"""A channel's results: its CSV, conversions marked by hand or from a list, remarketing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from campaigns.analytics import result_rows
from campaigns.exporting import csv_response

from . import conversions, remarketing
from .models import Channel, Delivery, InvalidTransition
from .remarketing_forms import ConversionUploadForm, RemarketForm
from .views import get_channel_for_user

CONVERTED_EVENT = "herald:converted"


def get_delivery_for(request: HttpRequest, pk: int, *, perm: str) -> Delivery:
    delivery = get_object_or_404(
        Delivery.objects.select_related("channel__campaign", "contact"), pk=pk
    )
    if not request.user.has_perm(perm):
        raise PermissionDenied
    return delivery


def analytics_url(channel: Channel) -> str:
    return reverse("campaigns:analytics", args=[channel.campaign_id])


def next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if target and safe else default


@require_safe
def export_channel(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_channel_for_user(request, channel_id, perm="channels.view_delivery")
    deliveries = Delivery.objects.filter(channel=channel)
    return csv_response(
        result_rows(deliveries=deliveries), filename=f"channel-{channel.pk}-results.csv"
    )


@require_POST
def mark_converted(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_delivery_for(request, delivery_id, perm="channels.change_channel")
    try:
        done = conversions.mark_converted(delivery=delivery, by=request.user)
    except InvalidTransition as exc:
        return HttpResponse(str(exc), status=409)
    if request.htmx:
        context = {"delivery": delivery, "next": request.POST.get("next", "")}
        response = render(request, "channels/_mark_converted_button.html", context)
        # Figures elsewhere on the page ("1 converted") reload themselves on this event.
        response["HX-Trigger"] = CONVERTED_EVENT
        return response
    if done:
        messages.success(request, f"{delivery.contact} marked converted.")
    else:
        messages.info(request, f"{delivery.contact} was already marked converted.")
    return redirect(next_url(request, analytics_url(delivery.channel)))


@require_http_methods(["GET", "POST"])
def upload_conversions(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_channel_for_user(request, channel_id, perm="channels.change_channel")
    posted = request.method == "POST"
    form = ConversionUploadForm(request.POST, request.FILES) if posted else ConversionUploadForm()
    report = None
    try:
        channel.campaign.refuse_if_archived()
        if posted and form.is_valid():
            report = conversions.mark_converted_from_list(
                channel=channel, addresses=form.cleaned_data["addresses_found"], by=request.user
            )
            # The page's "converted so far" counts what this upload just marked.
            channel.refresh_from_db(fields=["converted"])
            form = ConversionUploadForm()
    except InvalidTransition as exc:
        return HttpResponse(str(exc), status=409)
    context = {"channel": channel, "form": form, "report": report}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "channels/conversions_upload.html", context, status=status)


def refused(request: HttpRequest, source: Channel, message: str) -> HttpResponse:
    context = {"source": source, "refusal": message}
    return render(request, "channels/remarket.html", context, status=409)


@require_http_methods(["GET", "POST"])
def remarket(request: HttpRequest, channel_id: int) -> HttpResponse:
    source = get_channel_for_user(request, channel_id, perm="channels.add_channel")
    if refusal := remarketing.refusal(source=source):
        return refused(request, source, refusal)
    form = RemarketForm(request.POST if request.method == "POST" else None, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            channel = remarketing.create_follow_up(
                source=source,
                channel=form.save(commit=False),
                outcomes=form.cleaned_data["outcomes"],
                unconverted_only=form.cleaned_data["unconverted_only"],
                by=request.user,
            )
        except InvalidTransition as exc:
            return refused(request, source, str(exc))
        size = channel.audience_size
        messages.success(
            request, f"“{channel.name}” is ready with {size:,} contacts: start it when you wish."
        )
        # The command center, where its Start button is.
        return redirect(f"{channel.campaign.get_absolute_url()}#channel-{channel.pk}")
    return render(request, "channels/remarket.html", {"source": source, "form": form})
