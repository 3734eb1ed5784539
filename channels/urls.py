from django.urls import path

from . import deliveries_views, provider_views, results_views, schedule_views, views

app_name = "channels"

urlpatterns = [
    path("providers/", provider_views.providers, name="providers"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/pause/", views.pause, name="pause"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/stop/", views.stop, name="stop"),
    path("<int:pk>/schedule/", schedule_views.schedule, name="schedule"),
    path("<int:pk>/schedule/cancel/", schedule_views.unschedule, name="unschedule"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/test-send/", views.test_send, name="test_send"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/remove/", views.remove, name="remove"),
    # A channel's results: CSV, conversions, remarketing.
    path("<int:channel_id>/results.csv", results_views.export_channel, name="export_results"),
    path(
        "<int:channel_id>/conversions/",
        results_views.upload_conversions,
        name="upload_conversions",
    ),
    path("<int:channel_id>/remarket/", results_views.remarket, name="remarket"),
    # A channel's deliveries table, its CSV, one delivery's message.
    path("<int:channel_id>/deliveries/", deliveries_views.deliveries, name="deliveries"),
    path(
        "<int:channel_id>/deliveries.csv",
        deliveries_views.export_deliveries,
        name="export_deliveries",
    ),
    path("deliveries/<int:delivery_id>/", deliveries_views.delivery, name="delivery"),
    path(
        "deliveries/<int:delivery_id>/convert/",
        results_views.mark_converted,
        name="mark_converted",
    ),
]
