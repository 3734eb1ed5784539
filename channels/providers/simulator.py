"""The simulated provider: realistic outcome mixes per kind, a delay per kind, an error rate
and a seed, so a fresh install shows real progress, its outcomes arriving through the same
event path as a real provider's.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import itertools
import logging
import struct
import threading
import time

from django.conf import settings

from ..models import Delivery
from .base import Accepted, Answer, Outgoing, Provider, ProviderError, ProviderResult

log = logging.getLogger("herald.providers")


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
# A 16-byte digest as four big-endian 32-bit numbers (one call, not four slices).
FOUR_WORDS = struct.Struct(">4I")
# Share of reached contacts that convert, by outcome.
CONVERSION = {Outcome.ANSWERED: 0.22, Outcome.DELIVERED: 0.04, Outcome.VOICEMAIL: 0.02}


class SimulatedWebhooks:
    """The simulated provider's callbacks: a thread that reports outcomes when they are due.

    Like a real provider's webhooks they come from outside the engine's task chains, so a
    channel's lanes never wait for them. If the process dies, the callbacks it had not made
    yet are lost, as a provider's can be; the supervisor closes those deliveries after
    HERALD_OUTCOME_TIMEOUT.
    """

    def __init__(self) -> None:
        self.due: list[tuple[float, int, str, list[dict]]] = []
        self.ready = threading.Condition()
        self.thread: threading.Thread | None = None
        self.sequence = itertools.count()
        self.reporting = 0  # callbacks popped and not yet recorded

    def schedule(self, delay: float, kind: str, outcomes: list[dict]) -> None:
        with self.ready:
            entry = (time.monotonic() + delay, next(self.sequence), kind, outcomes)
            heapq.heappush(self.due, entry)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self.run, name="herald-simulated-webhooks", daemon=True
                )
                self.thread.start()
            self.ready.notify()

    def run(self) -> None:
        from django.db import connection

        from ..events import ingest, simulated_report

        while True:
            with self.ready:
                while not self.due or self.due[0][0] > time.monotonic():
                    timeout = self.due[0][0] - time.monotonic() if self.due else 5.0
                    if not self.ready.wait(timeout=timeout) and not self.due:
                        connection.close()  # idle: give the connection back
                _, _, kind, outcomes = heapq.heappop(self.due)
                self.reporting += 1
            for outcome in outcomes:
                try:
                    ingest(simulated_report(kind, outcome))
                except Exception:
                    log.exception(
                        "simulated callback for delivery %s failed", outcome["delivery_id"]
                    )
            with self.ready:
                self.reporting -= 1

    def wait_until_idle(self, timeout: float = 10.0) -> None:
        """Wait until every scheduled callback has been made (tests, seed data)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.ready:
                if not self.due and not self.reporting:
                    return
            time.sleep(0.02)


simulated_webhooks = SimulatedWebhooks()


class SimulatedProvider(Provider):
    """Deterministic per (seed, channel, contact): the same run gives the same outcomes.

    It behaves as a real provider does: a send takes `send_latency` seconds (an API round
    trip) and is accepted, and the final outcome arrives `outcome_delay` seconds later
    (calls vary around it) as a provider event, through `channels.events.ingest` as a
    webhook would (`SimulatedWebhooks`). With no outcome delay the outcome is answered at
    once, which is what the engine's raw throughput figure measures.
    """

    name = "simulated"
    webhook_urls = ()

    def __init__(
        self,
        kind: str,
        *,
        outcome_delay: float,
        error_rate: float,
        seed: int,
        send_latency: float = 0.0,
        webhooks: SimulatedWebhooks | None = None,
    ) -> None:
        self.kind = kind
        self.webhooks = webhooks or simulated_webhooks
        self.latency = send_latency
        self.outcome_delay = outcome_delay
        self.error_rate = error_rate
        self.seed = seed
        self.outcomes = list(OUTCOME_MIX[kind])
        self.cumulative = list(itertools.accumulate(OUTCOME_MIX[kind].values()))

    def send(self, message: Outgoing) -> ProviderResult | Accepted:
        return self.send_many([message])[0]

    def send_many(self, messages: list[Outgoing]) -> list[Answer]:
        answers: list[Answer] = []
        due: dict[float, list[dict]] = {}
        for message in messages:
            if self.latency:
                time.sleep(self.latency)
            length, result = self.fate(message)
            # A test send has no delivery: its outcome is answered now, never called back.
            if (
                isinstance(result, BaseException)
                or not self.outcome_delay
                or message.delivery_id is None
            ):
                answers.append(result)
                continue
            # Events due within the same half second travel in one task.
            delay = round(self.outcome_delay * (0.5 + length) * 2) / 2
            due.setdefault(delay, []).append(
                {
                    "delivery_id": message.delivery_id,
                    "provider_id": result.provider_id,
                    "outcome": result.outcome,
                    "converted": result.converted,
                    "details": result.details,
                }
            )
            interim = "" if self.kind == "ai_voice" else "sent"
            answers.append(Accepted(provider_id=result.provider_id, outcome=interim))
        for delay, events in due.items():
            self.webhooks.schedule(delay, self.kind, events)
        return answers

    def fate(self, message: Outgoing) -> tuple[float, ProviderResult | ProviderError]:
        """The call's length (0..1) and its final result, from a hash of who it reaches."""
        # Four uniform numbers from one hash: cheaper than seeding a Random per message.
        # A retry is another call, with its own fate (the first call's is as it always was).
        call = f":{message.attempt}" if message.attempt > 1 else ""
        key = f"{self.seed}:{message.channel_id}:{message.contact_id}{call}".encode()
        digest = hashlib.blake2b(key, digest_size=16).digest()
        length, error, pick, convert = (n / 2**32 for n in FOUR_WORDS.unpack(digest))
        if error < self.error_rate:
            return length, ProviderError(f"Simulated {self.kind} gateway error for {message.to}")
        outcome = self.outcomes[bisect.bisect(self.cumulative, pick * self.cumulative[-1])]
        details = {}
        if self.kind == "ai_voice" and outcome == "answered":
            details = {
                "duration_seconds": round(20 + 160 * length),
                "ended_reason": "customer-ended-call",
                "summary": "Simulated call: the contact listened to the script.",
            }
        return length, ProviderResult(
            outcome=outcome,
            provider_id=f"sim-{message.delivery_id}{call}",
            converted=convert < CONVERSION.get(outcome, 0.0),
            details=details,
        )


def simulated(kind: str) -> SimulatedProvider:
    options = settings.HERALD_SIMULATOR
    return SimulatedProvider(
        kind,
        outcome_delay=options["latency"].get(kind, 0.0),
        send_latency=options.get("send_latency", {}).get(kind, 0.0),
        error_rate=options["error_rate"],
        seed=options["seed"],
    )
