"""/webhooks/…: provider callbacks, one group per provider."""

from django.urls import path  # noqa: F401 (each provider adds its paths below)

app_name = "webhooks"
urlpatterns: list = []
