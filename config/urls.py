from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from channels.unsubscribe import unsubscribe
from config.views import health

handler500 = "config.views.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="campaigns:list", permanent=False)),
    path("health/", health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("campaigns/", include("campaigns.urls")),
    path("channels/", include("channels.urls")),
    path("contacts/", include("campaigns.contacts.urls")),
    path("preferences/", include("campaigns.preferences.urls")),
    # ESP tracking webhooks through django-anymail: /webhooks/anymail/postmark/tracking/ ...
    path("webhooks/anymail/", include("channels.webhooks.anymail")),
    path("webhooks/", include("channels.webhooks.urls")),
    # The signed one-click unsubscribe link of every email (RFC 8058).
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]
