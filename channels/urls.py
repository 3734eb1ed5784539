from django.urls import path

from . import results_urls, views

app_name = "channels"

urlpatterns = [
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/pause/", views.pause, name="pause"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/stop/", views.stop, name="stop"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/remove/", views.remove, name="remove"),
]

# A channel's results: CSV, conversions, remarketing (channels/results_urls.py).
urlpatterns += results_urls.urlpatterns
