"""Providers for tests: configured by dotted path, so worker subprocesses can use them too."""

import threading
import time
import zlib

from channels.providers import (
    Accepted,
    Outgoing,
    Provider,
    ProviderError,
    ProviderResult,
    RateLimited,
)

OUTCOME = {"ai_voice": "answered", "sms": "delivered", "email": "delivered"}


class RecordingProvider(Provider):
    """Answers every message with the kind's success outcome and remembers what it saw."""

    sent: list[Outgoing] = []
    lock = threading.Lock()
    active = 0
    max_active = 0

    def __init__(self, kind: str, latency: float = 0.0) -> None:
        self.kind = kind
        self.latency = latency

    def send(self, message: Outgoing) -> ProviderResult:
        cls = type(self)
        with cls.lock:
            cls.active += 1
            cls.max_active = max(cls.max_active, cls.active)
            cls.sent.append(message)
        try:
            if self.latency:
                time.sleep(self.latency)
            return ProviderResult(
                outcome=OUTCOME[self.kind], provider_id=f"rec-{message.delivery_id}"
            )
        finally:
            with cls.lock:
                cls.active -= 1

    @classmethod
    def reset(cls) -> None:
        cls.sent = []
        cls.active = cls.max_active = 0


def slow_recording(kind: str) -> RecordingProvider:
    return RecordingProvider(kind, latency=0.05)


class FlakyProvider(Provider):
    """Raises for one contact in ten (chosen by contact id, so the test can predict them)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    @staticmethod
    def fails(contact_id: int) -> bool:
        return zlib.crc32(str(contact_id).encode()) % 10 == 0

    def send(self, message: Outgoing) -> ProviderResult:
        if self.fails(message.contact_id):
            raise ProviderError(f"gateway refused {message.to}")
        return ProviderResult(
            outcome=OUTCOME[self.kind], provider_id=f"flaky-{message.delivery_id}"
        )


class AcceptingProvider(Provider):
    """Accepts every message as a real provider does; outcomes come later, as events."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, message: Outgoing) -> Accepted:
        interim = "" if self.kind == "ai_voice" else "sent"
        # A voice retry is another call, with an id of its own, as a real provider gives.
        call = f"-{message.attempt}" if message.attempt > 1 else ""
        return Accepted(provider_id=f"acc-{message.delivery_id}{call}", outcome=interim)


class ConfiguredProvider(RecordingProvider):
    """A provider with settings and a webhook, as the real ones have (the Providers page)."""

    name = "configured"
    required_settings = ("HERALD_TEST_PROVIDER_KEY", "HERALD_TEST_PROVIDER_SECRET")
    webhook_urls = ("health",)

    def send(self, message: Outgoing) -> Accepted:
        super().send(message)
        return Accepted(provider_id="cfg-42", outcome="sent")


class RefusingProvider(Provider):
    """Refuses every message, as a provider does a number it cannot reach."""

    name = "refusing"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, message: Outgoing) -> ProviderResult:
        raise ProviderError(f"gateway refused {message.to}")


class BrokenProvider(Provider):
    """Refuses everything, as a provider with a revoked key does."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, message: Outgoing) -> ProviderResult:
        raise ProviderError("401 Unauthorized: authenticate with a valid API key")


class RateLimitingProvider(Provider):
    """Answers 429 to every message."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, message: Outgoing) -> ProviderResult:
        raise RateLimited("429 Too Many Requests")


class ScriptedCallProvider(Provider):
    """Answers each call with the next outcome scripted for its contact (`no_answer` when
    none is left), and remembers every call it was asked to place (voice retries)."""

    script: dict[int, list[str]] = {}
    calls: list[Outgoing] = []

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, message: Outgoing) -> ProviderResult:
        cls = type(self)
        cls.calls.append(message)
        outcomes = cls.script.get(message.contact_id) or ["no_answer"]
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        return ProviderResult(
            outcome=outcome, provider_id=f"call-{message.delivery_id}-{message.attempt}"
        )

    @classmethod
    def reset(cls, script: dict[int, list[str]] | None = None) -> None:
        cls.script = {contact: list(outcomes) for contact, outcomes in (script or {}).items()}
        cls.calls = []

    @classmethod
    def placed(cls, contact_id: int) -> list[int]:
        """The attempt numbers of the calls placed to one contact, in order."""
        return [m.attempt for m in cls.calls if m.contact_id == contact_id]
