from django.urls import path

from channels import views as channel_views

from . import analytics_views, views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/live/", views.campaign_live, name="live"),
    path("<int:pk>/activity/", views.campaign_activity, name="activity"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/archive/", views.campaign_archive, name="archive"),
    path("<int:pk>/unarchive/", views.campaign_unarchive, name="unarchive"),
    path("<int:pk>/delete/", views.campaign_delete, name="delete"),
    # A channel is created inside its campaign; every other channel URL is under /channels/.
    path("<int:pk>/channels/new/", channel_views.create, name="add_channel"),
    path("<int:pk>/channels/new/test-send/", channel_views.test_send_new, name="test_send"),
    path("<int:pk>/channels/new/preview/", channel_views.preview_new, name="preview"),
    # The Analytics section.
    path("<int:campaign_id>/analytics/", analytics_views.analytics_page, name="analytics"),
    path(
        "<int:campaign_id>/analytics/results.csv",
        analytics_views.export_campaign,
        name="export_results",
    ),
]
