"""Providers per channel kind, chosen by HERALD_<KIND>_PROVIDER (SPEC section 4a).

A name from `PROVIDERS` (`simulated`, the default; `smtp`, `anymail`, `twilio`, `vapi`) or
a dotted path to a Provider class or a factory taking the kind.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import (
    Accepted,
    Answer,
    Outgoing,
    Provider,
    ProviderError,
    ProviderResult,
    RateLimited,
)
from .simulator import SimulatedProvider, simulated, simulated_webhooks

__all__ = [
    "Accepted",
    "Answer",
    "Outgoing",
    "Provider",
    "ProviderError",
    "ProviderResult",
    "RateLimited",
    "SimulatedProvider",
    "provider_for",
    "reset_providers",
    "simulated",
    "simulated_webhooks",
]

# The names HERALD_<KIND>_PROVIDER accepts, with what each one loads.
PROVIDERS = {
    "simulated": "channels.providers.simulator.simulated",
    "vapi": "channels.providers.vapi.vapi",
    "twilio": "channels.providers.twilio.TwilioProvider",
    "smtp": "channels.providers.smtp.smtp",
    "anymail": "channels.providers.anymail.anymail",
}


def provider_path(kind: str) -> str:
    configured = settings.HERALD_PROVIDERS[kind]
    return PROVIDERS.get(configured, configured)


@cache
def provider_for(kind: str) -> Provider:
    """The configured provider of a kind: a name, a class path, or a factory taking the kind."""
    target = import_string(provider_path(kind))
    return target(kind) if not isinstance(target, Provider) else target


def reset_providers() -> None:
    """Forget configured providers (tests that change HERALD_PROVIDERS call this)."""
    provider_for.cache_clear()
