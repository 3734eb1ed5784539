"""Providers hand one message to the outside world and say what happened.

One provider class per channel kind, chosen in settings (`HERALD_PROVIDERS`). A provider
returns a `ProviderResult` or raises; the dispatcher turns an exception into a `failed`
delivery with the error text, so a broken provider can neither kill a worker nor stall a
channel. The default is `SimulatedProvider`: realistic outcome mixes per kind, a latency
per kind, an error rate and a seed, so a fresh install shows real progress.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import time
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .models import Delivery


class ProviderError(Exception):
    """The provider could not take the message (network error, refused number, ...)."""


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    channel_id: int
    contact_id: int
    kind: str
    to: str
    content: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderResult:
    outcome: str
    provider_id: str = ""
    converted: bool = False


class Provider:
    kind: str = ""
    #: Seconds a typical send takes; the dispatcher runs slow providers concurrently.
    latency: float = 0.0

    def send(self, message: Outgoing) -> ProviderResult:
        raise NotImplementedError


# Outcome mixes seen on real outreach runs, as weights.
Outcome = Delivery.Outcome
OUTCOME_MIX = {
    "ai_voice": {
        Outcome.ANSWERED: 38,
        Outcome.VOICEMAIL: 24,
        Outcome.NO_ANSWER: 28,
        Outcome.BUSY: 6,
        Outcome.FAILED: 4,
    },
    "sms": {Outcome.DELIVERED: 86, Outcome.SENT: 6, Outcome.UNDELIVERED: 6, Outcome.FAILED: 2},
    "email": {Outcome.DELIVERED: 90, Outcome.SENT: 4, Outcome.BOUNCED: 5, Outcome.FAILED: 1},
}
# Share of reached contacts that convert, by outcome.
CONVERSION = {Outcome.ANSWERED: 0.22, Outcome.DELIVERED: 0.04, Outcome.VOICEMAIL: 0.02}


class SimulatedProvider(Provider):
    """Deterministic per (seed, channel, contact): the same run gives the same outcomes."""

    def __init__(self, kind: str, *, latency: float, error_rate: float, seed: int) -> None:
        self.kind = kind
        self.latency = latency
        self.error_rate = error_rate
        self.seed = seed
        self.outcomes = list(OUTCOME_MIX[kind])
        self.cumulative = list(itertools.accumulate(OUTCOME_MIX[kind].values()))

    def send(self, message: Outgoing) -> ProviderResult:
        # Four uniform numbers from one hash: cheaper than seeding a Random per message.
        key = f"{self.seed}:{message.channel_id}:{message.contact_id}".encode()
        digest = hashlib.blake2b(key, digest_size=16).digest()
        length, error, pick, convert = (
            int.from_bytes(digest[i : i + 4]) / 2**32 for i in range(0, 16, 4)
        )
        if self.latency:
            # Calls vary around their typical length; texts and emails barely.
            time.sleep(self.latency * (0.5 + length))
        if error < self.error_rate:
            raise ProviderError(f"Simulated {self.kind} gateway error for {message.to}")
        outcome = self.outcomes[bisect.bisect(self.cumulative, pick * self.cumulative[-1])]
        converted = convert < CONVERSION.get(outcome, 0.0)
        return ProviderResult(
            outcome=outcome, provider_id=f"sim-{message.delivery_id}", converted=converted
        )


def simulated(kind: str) -> SimulatedProvider:
    options = settings.HERALD_SIMULATOR
    return SimulatedProvider(
        kind,
        latency=options["latency"].get(kind, 0.0),
        error_rate=options["error_rate"],
        seed=options["seed"],
    )


@cache
def provider_for(kind: str) -> Provider:
    """The configured provider of a kind: a class path, or a factory taking the kind."""
    target = import_string(settings.HERALD_PROVIDERS[kind])
    return target(kind) if not isinstance(target, Provider) else target


def reset_providers() -> None:
    """Forget configured providers (tests that change HERALD_PROVIDERS call this)."""
    provider_for.cache_clear()
