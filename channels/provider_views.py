"""The Providers page: which provider each channel kind uses and whether it can run (SPEC 4a).

It reads only the base `Provider` interface (name, required settings, webhook URL names),
so every provider shows the same way; a setting's value is never shown, only its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from .models import Channel, ProviderEvent
from .providers import provider_for

RECENT = timedelta(hours=24)


# The environment variable config/settings.py reads each kind's provider from.
@dataclass(frozen=True)
class ProviderStatus:
    kind: str
    label: str
    name: str
    configured: str
    variable: str
    simulated: bool
    missing: list[str]
    webhooks: list[str]
    last_event: ProviderEvent | None
    recent_events: int


def webhook_url(name: str) -> str:
    return settings.HERALD_PUBLIC_URL.rstrip("/") + reverse(name)


def provider_statuses() -> list[ProviderStatus]:
    """One row per channel kind; a query per distinct provider and one count for them all."""
    providers = {kind: provider_for(kind) for kind in Channel.Kind}
    names = {
        provider.name or settings.HERALD_PROVIDERS[kind] for kind, provider in providers.items()
    }
    # The (provider, -received_at) index answers each of these with one index step.
    latest = {name: ProviderEvent.objects.filter(provider=name).first() for name in sorted(names)}
    counts = dict(
        ProviderEvent.objects.filter(provider__in=names, received_at__gte=timezone.now() - RECENT)
        .values_list("provider")
        .annotate(count=Count("pk"))
        .order_by()
    )
    statuses = []
    for kind, provider in providers.items():
        name = provider.name or settings.HERALD_PROVIDERS[kind]
        statuses.append(
            ProviderStatus(
                kind=kind.value,
                label=kind.label,
                name=name,
                configured=settings.HERALD_PROVIDERS[kind],
                variable=settings.HERALD_PROVIDER_VARIABLES[kind],
                simulated=name == "simulated",
                missing=provider.missing_settings(),
                webhooks=[webhook_url(url_name) for url_name in provider.webhook_urls],
                last_event=latest[name],
                recent_events=counts.get(name, 0),
            )
        )
    return statuses


@require_safe
def providers(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("channels.view_channel"):
        raise PermissionDenied
    return render(request, "channels/providers.html", {"statuses": provider_statuses()})
