from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Campaign


def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.exclude(status=Campaign.Status.ARCHIVED)
    return render(request, "campaigns/list.html", {"campaigns": campaigns})
