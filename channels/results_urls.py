"""A channel's results URLs, appended to channels/urls.py (namespace `channels`)."""

from django.urls import path

from . import results_views

urlpatterns = [
    path("<int:channel_id>/results.csv", results_views.export_channel, name="export_results"),
    path(
        "<int:channel_id>/conversions/",
        results_views.upload_conversions,
        name="upload_conversions",
    ),
    path("<int:channel_id>/remarket/", results_views.remarket, name="remarket"),
    path(
        "deliveries/<int:delivery_id>/convert/",
        results_views.mark_converted,
        name="mark_converted",
    ),
]
