"""A channel's deliveries table (SPEC 5), one delivery's message, and their CSV."""

from __future__ import annotations

from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from campaigns.analytics import result_rows
from campaigns.exporting import csv_response
from campaigns.views import wants_fragment

from .deliveries import DeliveryFilter, cursor, keyset_page
from .details import call_details, sent_content
from .models import Delivery, ProviderEvent
from .results_views import get_delivery_for
from .views import get_channel_for_user

VIEW = "channels.view_delivery"


@require_safe
@vary_on_headers("HX-Request")
def deliveries(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_channel_for_user(request, channel_id, perm=VIEW)
    filters = DeliveryFilter(request.GET, channel=channel)
    page = keyset_page(
        filters.qs,
        after=cursor(request.GET.get("after")),
        before=cursor(request.GET.get("before")),
    )
    for delivery in page.deliveries:
        # The rows' mark-converted buttons read the channel and campaign: no query per row.
        Delivery.channel.field.set_cached_value(delivery, channel)
    template = "channels/deliveries.html"
    if wants_fragment(request):
        template += "#table"
    return render(request, template, {"channel": channel, "filter": filters, "page": page})


@require_safe
def export_deliveries(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Every delivery the filters select, not only the page shown."""
    channel = get_channel_for_user(request, channel_id, perm=VIEW)
    filters = DeliveryFilter(request.GET, channel=channel)
    return csv_response(
        result_rows(deliveries=filters.qs), filename=f"channel-{channel.pk}-deliveries.csv"
    )


@require_safe
@vary_on_headers("HX-Request")
def delivery(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """What was sent to one contact (rendered now, for this row only) and what came back."""
    delivery = get_delivery_for(request, delivery_id, perm=VIEW)
    events = ProviderEvent.objects.order_by("received_at", "pk")
    prefetch_related_objects([delivery], Prefetch("events", events))
    delivery.sent_content = sent_content(delivery.channel, delivery.contact)
    delivery.call = call_details(delivery.details)
    template = "channels/delivery.html"
    if wants_fragment(request):
        template += "#message"
    return render(request, template, {"delivery": delivery, "channel": delivery.channel})
