"""The `smtp` provider: email through any SMTP server (HERALD_EMAIL_PROVIDER=smtp).

The server is Django's SMTP mailer (`MAILERS["smtp"]`, configured by EMAIL_HOST, EMAIL_PORT,
EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL and EMAIL_TIMEOUT). A batch
shares one connection. SMTP reports nothing after it accepts a message, so the answer is
final: `sent`, with the Message-ID Herald gave the email as the provider id.

A refused recipient fails that delivery only; a broken connection fails the rest of the batch
with the error (they are never re-sent: the engine contacts a contact at most once).
"""

from __future__ import annotations

import contextlib
import smtplib

from django.core.mail import mailers

from .base import Answer, Outgoing, Provider, ProviderError, ProviderResult
from .email import build_email


class SMTPProvider(Provider):
    name = "smtp"
    kind = "email"
    # Sends go in batches on one connection, in the worker's own thread (latency 0 keeps
    # the dispatcher calling send_many).
    latency = 0.0
    mailer = "smtp"

    def __init__(self, kind: str = "email") -> None:
        if kind != "email":
            raise ValueError("The smtp provider sends email only.")
        self.kind = kind

    def send(self, message: Outgoing) -> ProviderResult:
        answer = self.send_many([message])[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def send_many(self, messages: list[Outgoing]) -> list[Answer]:
        """Every message of the batch on one connection; never raises (an error is an answer)."""
        if not messages:
            return []
        try:
            connection = mailers[self.mailer]
            connection.open()
        except Exception as exc:
            error = ProviderError(f"Could not connect to the SMTP server: {describe(exc)}")
            return [error] * len(messages)
        answers: list[Answer] = []
        try:
            for message in messages:
                try:
                    answers.append(self.send_on(connection, message))
                except Exception as exc:
                    if not connection_lost(exc):
                        answers.append(ProviderError(describe(exc)))
                        continue
                    # Nothing more can go out on this connection in this batch.
                    error = ProviderError(f"SMTP connection lost: {describe(exc)}")
                    answers += [error] * (len(messages) - len(answers))
                    break
        finally:
            # A connection already broken has nothing left to close.
            with contextlib.suppress(Exception):
                connection.close()
        return answers

    def send_on(self, connection, message: Outgoing) -> ProviderResult:
        email = build_email(message, message_id=True)
        connection.send_messages([email])
        return ProviderResult(outcome="sent", provider_id=email.extra_headers["Message-ID"])


def connection_lost(exc: BaseException) -> bool:
    """Whether an error ends the connection (a socket error, a timeout, a disconnect, a 421),
    rather than refusing one message (a recipient, the sender or the data refused)."""
    if isinstance(exc, smtplib.SMTPResponseException):  # also SMTPSenderRefused, DataError
        return exc.smtp_code == 421
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):  # recipients refused, SMTPUTF8 unsupported
        return False
    return isinstance(exc, OSError)  # timeouts and socket errors


def describe(exc: BaseException) -> str:
    """An SMTP error in words: "550 5.1.1 No such user" rather than a tuple's repr."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = "; ".join(
            f"{address}: {code} {text_of(reply)}"
            for address, (code, reply) in exc.recipients.items()
        )
        return f"The SMTP server refused the recipient: {refusals}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {text_of(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def text_of(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def smtp(kind: str) -> SMTPProvider:
    return SMTPProvider(kind)
