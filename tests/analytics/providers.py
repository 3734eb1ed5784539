"""Providers for the analytics tests."""

from channels.providers import Outgoing, Provider, ProviderResult


class OpenedTenTimesProvider(Provider):
    """An email provider whose every message is delivered, opened ten times, and converts.

    Opens are provider events, not deliveries: the ledger keeps one row per contact.
    """

    latency = 0.0
    opens: dict[int, int] = {}

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, message: Outgoing) -> ProviderResult:
        for _ in range(10):
            self.opens[message.contact_id] = self.opens.get(message.contact_id, 0) + 1
        return ProviderResult(outcome="delivered", provider_id="open10", converted=True)
