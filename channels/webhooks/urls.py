"""/webhooks/…: provider callbacks, one group per provider."""

from django.urls import path

from . import vapi

app_name = "webhooks"
urlpatterns: list = [
    path("vapi/", vapi.vapi, name="vapi"),
]
