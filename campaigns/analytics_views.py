"""The Analytics section of a campaign: its page, the polled figures, the campaign's CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from channels.models import Delivery

from . import analytics
from .command_center import get_campaign_for_user
from .exporting import csv_response
from .models import Campaign


@require_safe
def analytics_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, campaign_id, perm="campaigns.view_campaign")
    data = analytics.campaign_analytics(campaign=campaign)
    context = {
        "campaign": campaign,
        "analytics": data,
        "chart_data": analytics.chart_data(analytics=data),
        "read_only": campaign.status == Campaign.Status.ARCHIVED,
    }
    if not request.htmx:  # the command center's Analytics tab
        context.update(tab="analytics", channels=None)
        return render(request, "campaigns/detail.html", context)
    return render(request, "campaigns/analytics.html#figures", context)


@require_safe
def export_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, campaign_id, perm="channels.view_delivery")
    deliveries = Delivery.objects.filter(channel__campaign=campaign)
    return csv_response(
        analytics.result_rows(deliveries=deliveries),
        filename=f"campaign-{campaign.pk}-results.csv",
    )
