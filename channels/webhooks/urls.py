"""/webhooks/…: provider callbacks, one group per provider."""

from django.urls import path

from . import twilio, vapi

app_name = "webhooks"
urlpatterns: list = [
    path("twilio/status/", twilio.status, name="twilio_status"),
    path("twilio/inbound/", twilio.inbound, name="twilio_inbound"),
    path("vapi/", vapi.vapi, name="vapi"),
]
