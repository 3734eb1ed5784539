"""What every provider is: it hands one message to the outside world and says what happened.

A provider answers a send with a final `ProviderResult`, or with `Accepted` (the provider
took it and gave its id; the outcome comes later, as a provider event through
`channels.events.ingest`), or raises; the dispatcher turns an exception into a `failed`
delivery with the error text, so a broken provider can neither kill a worker nor stall a
channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class ProviderError(Exception):
    """The provider could not take the message (network error, refused number, ...)."""


class RateLimited(ProviderError):
    """The provider asked us to slow down (HTTP 429)."""


@dataclass(frozen=True)
class Outgoing:
    #: None for a test send (SPEC 4a): no delivery row, so no outcome may be reported for it.
    delivery_id: int | None
    channel_id: int
    contact_id: int
    kind: str
    to: str
    # A dict, or the dispatcher's `LazyContent` (rendered when read).
    content: Mapping[str, str] = field(default_factory=dict)
    #: Which call to the contact this is (voice retries, channels/retries.py): 1, 2, ...
    attempt: int = 1


@dataclass(frozen=True)
class ProviderResult:
    """A final answer: the outcome is known now."""

    outcome: str
    provider_id: str = ""
    converted: bool = False
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    """The provider took the message; its final outcome arrives later as an event.

    `outcome` is what is known already (`sent` for a text or an email the provider took;
    nothing for a call just queued).
    """

    provider_id: str
    outcome: str = ""
    details: dict = field(default_factory=dict)


Answer = ProviderResult | Accepted | BaseException


class Provider:
    #: The name HERALD_<KIND>_PROVIDER selects it by (`simulated`, `smtp`, `twilio` ...).
    name: str = ""
    kind: str = ""
    #: Seconds a typical send takes; the dispatcher runs slow providers concurrently.
    latency: float = 0.0
    #: Settings it needs, for the Providers page (never their values).
    required_settings: tuple[str, ...] = ()
    #: Webhook URL names (`reverse`) to paste into the provider's console.
    webhook_urls: tuple[str, ...] = ()

    def missing_settings(self) -> list[str]:
        """Required settings that are not set; empty when the provider can run."""
        from django.conf import settings

        return [name for name in self.required_settings if not getattr(settings, name, None)]

    def send(self, message: Outgoing) -> ProviderResult | Accepted:
        raise NotImplementedError

    def send_many(self, messages: list[Outgoing]) -> list[Answer]:
        """Send a batch; a provider that can share a connection overrides this."""
        return [self.try_send(message) for message in messages]

    def try_send(self, message: Outgoing) -> Answer:
        try:
            return self.send(message)
        except Exception as exc:  # any provider failure is a failed delivery, never a dead worker
            return exc
