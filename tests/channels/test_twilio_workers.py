"""Real db_worker processes sending through Twilio's SDK to a local fake of its API, with the
outcomes arriving later as signed status callbacks through a live server (SPEC G1-G5)."""

import time
from collections import Counter

import pytest
import requests

from channels.models import Channel, Delivery, ProviderEvent
from tests.channels.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SERVICE_SID,
    FakeTwilio,
    signature,
    status_params,
)
from tests.channels.test_events import counters, ledger_counters
from tests.channels.test_workers import channel_on, status_of
from tests.channels.workers import Workers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
]

AUDIENCE = 240
CALLBACK_DELAY = 1.0  # seconds from Twilio's acceptance to its status callbacks


class Callbacks:
    """Posts `sent` then `delivered` for every accepted text, signed, once it is due."""

    def __init__(self, twilio: FakeTwilio) -> None:
        self.twilio = twilio
        self.seen: dict[str, float] = {}
        self.posted: set[str] = set()
        self.session = requests.Session()

    def post_due(self) -> None:
        now = time.monotonic()
        with self.twilio.lock:
            callbacks = dict(self.twilio.callbacks)
        for sid in callbacks:
            self.seen.setdefault(sid, now)
        for sid, url in callbacks.items():
            if sid in self.posted or now - self.seen[sid] < CALLBACK_DELAY:
                continue
            for status in ("sent", "delivered"):
                params = status_params(sid, status)
                response = self.session.post(
                    url, data=params, headers={"X-Twilio-Signature": signature(url, params)}
                )
                assert response.status_code == 200, response.text
            self.posted.add(sid)


def until(predicate, *, timeout: float, workers: Workers, callbacks: Callbacks) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        callbacks.post_due()
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s; worker logs:\n{workers.logs()}")


def test_twilio_texts_with_late_callbacks_survive_pause_resume_and_a_kill(
    tmp_path, httpserver, live_server, settings
):
    twilio = FakeTwilio(httpserver)
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.HERALD_PUBLIC_URL = live_server.url
    workers = Workers(
        tmp_path,
        HERALD_SMS_PROVIDER="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID,
        TWILIO_API_BASE_URL=httpserver.url_for("/").rstrip("/"),
        HERALD_PUBLIC_URL=live_server.url,
        # Callbacks come about a second after acceptance, well inside this.
        HERALD_OUTCOME_TIMEOUT="ai_voice=60,sms=60,email=60",
    )
    callbacks = Callbacks(twilio)
    channel = channel_on(AUDIENCE, kind=Channel.Kind.SMS, max_per_second=40)
    sent = Delivery.objects.filter(channel=channel)
    try:
        workers.start(2)
        channel.start()
        wait = {"timeout": 60, "workers": workers, "callbacks": callbacks}
        until(lambda: sent.count() >= 40, **wait)
        channel.pause()
        for _ in range(10):  # callbacks keep arriving while it is paused
            callbacks.post_due()
            time.sleep(0.1)
        channel.resume()
        until(lambda: sent.count() >= 120, **wait)
        workers.kill(workers.alive()[0])
        until(lambda: status_of(channel) == Channel.Status.COMPLETED, **{**wait, "timeout": 120})
    finally:
        workers.stop_all()

    assert sent.count() == AUDIENCE
    assert Counter(sent.values_list("contact_id", flat=True)).most_common(1)[0][1] == 1
    assert counters(channel) == ledger_counters(channel)
    assert channel.processed == AUDIENCE and channel.in_flight == 0
    per_number = Counter(twilio.to_numbers())
    assert per_number and max(per_number.values()) == 1  # no one texted twice
    assert len(per_number) == len(twilio.accepted) <= AUDIENCE
    recorded = set(sent.exclude(provider_id="").values_list("provider_id", flat=True))
    assert recorded <= set(twilio.accepted)
    assert sent.filter(outcome="delivered").count() == len(twilio.accepted)
    assert not sent.filter(state__in=[Delivery.State.SENDING, Delivery.State.ACCEPTED]).exists()
    assert ProviderEvent.objects.filter(provider="twilio").count() == 2 * len(twilio.accepted)
