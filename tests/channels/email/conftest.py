"""A real SMTP server (aiosmtpd) and a Postmark-like API (pytest-httpserver) on this machine."""

import email
import email.policy
import socket
import threading
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from channels.providers import reset_providers

PUBLIC_URL = "https://herald.example.com"
LOCMEM = {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}


@dataclass
class Received:
    peer: tuple
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    def raw_header(self, name: str) -> str:
        """A header as it travelled (folded lines joined), before any decoding."""
        head = self.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ")
        for line in unfolded.split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == name.lower():
                return value.strip()
        raise KeyError(name)


class RecordingHandler:
    """Records each message; answers 550 to the addresses in `refuse` and 421 (closing) to
    the data of a message for an address in `drop_at`."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.drop_at: set[str] = set()
        self.connections = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.connections += 1  # smtplib says EHLO once per connection
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if set(envelope.rcpt_tos) & self.drop_at:
            return "421 4.3.2 Service shutting down, closing transmission channel"
        with self.lock:
            self.received.append(
                Received(
                    session.peer, envelope.mail_from, list(envelope.rcpt_tos), envelope.content
                )
            )
        return "250 2.0.0 Ok: queued"

    def to(self, address: str) -> list[Received]:
        return [message for message in self.received if address in message.rcpt_tos]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on 127.0.0.1 that the `smtp` provider sends email to."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": LOCMEM,
        "smtp": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        },
    }
    settings.HERALD_PUBLIC_URL = PUBLIC_URL
    settings.HERALD_UNSUBSCRIBE_MAILTO = "unsubscribe@herald.example.com"
    settings.DEFAULT_FROM_EMAIL = "Herald <herald@example.com>"
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def email_provider(settings, fast_engine):
    """`email_provider("smtp")`: the provider of email channels, the simulator for the rest."""

    def use(name: str) -> None:
        settings.HERALD_PROVIDERS = {**settings.HERALD_PROVIDERS, "email": name}
        reset_providers()

    yield use
    reset_providers()
