from django.urls import path

from . import analytics_urls, views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
]

# The Analytics section (campaigns/analytics_urls.py).
urlpatterns += analytics_urls.urlpatterns
