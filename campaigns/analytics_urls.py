"""The Analytics section's URLs, appended to campaigns/urls.py (namespace `campaigns`)."""

from django.urls import path

from . import analytics_views

urlpatterns = [
    path(
        "<int:campaign_id>/analytics/",
        analytics_views.analytics_page,
        name="analytics",
    ),
    path(
        "<int:campaign_id>/analytics/results.csv",
        analytics_views.export_campaign,
        name="export_results",
    ),
]
