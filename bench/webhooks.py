"""Provider status webhooks posted concurrently to the production server (`make serve`'s
gunicorn with two web processes), against the rate the same server gives a trivial view."""

from __future__ import annotations

import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import httpx
from django.db import connection
from django.db.models import Count
from twilio.request_validator import RequestValidator

from campaigns.models import ContactList
from channels import dispatch, events
from channels.models import Channel, Delivery

from .data import new_channel, settle
from .processes import ROOT, bench_env, database_url
from .report import figure

AUTH_TOKEN = "bench-twilio-auth-token"  # noqa: S105 (a scratch server of the bench)
CLIENT_THREADS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accepted_channel(contact_list: ContactList, count: int) -> Channel:
    """A running SMS channel whose first `count` contacts were accepted by Twilio."""
    channel = new_channel(contact_list)
    channel.start()
    ids = list(contact_list.memberships.order_by("id").values_list("contact_id", flat=True))
    Delivery.objects.bulk_create(
        Delivery(
            channel=channel,
            contact_id=contact_id,
            state=Delivery.State.ACCEPTED,
            outcome="sent",
            provider_id=f"SM{channel.pk:08d}{contact_id:024d}",
        )
        for contact_id in ids[:count]
    )
    dispatch.recount(channel_id=channel.pk)
    Channel.objects.filter(pk=channel.pk).update(claim_cursor=10**12)  # nothing left to claim
    return channel


def start_server(port: int, public_url: str) -> subprocess.Popen:
    env = bench_env(
        database_url(),
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        HERALD_PUBLIC_URL=public_url,
        ALLOWED_HOSTS="127.0.0.1",
    )
    command = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--workers", "2", "--threads", "4"]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def rate(requests: list[tuple[str, dict | None, dict]]) -> float:
    """Requests per second with CLIENT_THREADS keep-alive clients; every one must succeed."""
    clients = [httpx.Client(timeout=30) for _ in range(CLIENT_THREADS)]

    def run(index: int) -> None:
        client = clients[index % CLIENT_THREADS]
        url, data, headers = requests[index]
        response = client.post(url, data=data, headers=headers) if data else client.get(url)
        if response.status_code >= 300:
            raise RuntimeError(f"{url}: {response.status_code}")

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        list(pool.map(run, range(len(requests))))
    elapsed = time.perf_counter() - began
    for client in clients:
        client.close()
    return len(requests) / elapsed


def status_callbacks(channel: Channel, public_url: str) -> list[tuple[str, dict, dict]]:
    validator = RequestValidator(AUTH_TOKEN)
    calls = []
    for delivery_id, sid in Delivery.objects.filter(channel=channel).values_list(
        "pk", "provider_id"
    ):
        path = f"/webhooks/twilio/status/?{urlencode({'d': delivery_id})}"
        params = {"MessageSid": sid, "MessageStatus": "delivered", "To": "+12025550100"}
        signature = validator.compute_signature(public_url + path, params)
        calls.append((path, params, {"X-Twilio-Signature": signature}))
    return calls


def webhook_figure(contact_list: ContactList, *, count: int) -> dict:
    """Signed Twilio status callbacks for one channel, posted concurrently to gunicorn with
    two web processes, vs the same server's rate on the health check (a trivial view)."""
    channel = accepted_channel(contact_list, count)
    settle()  # the million-row figures before this one leave autovacuum work behind
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    connection.close()  # the server's processes take their own connections
    server = start_server(port, base)
    try:
        wait_for(base + "/health/")
        trivial = rate([(base + "/health/", None, {})] * count)
        hooks = [
            (base + path, data, headers) for path, data, headers in status_callbacks(channel, base)
        ]
        webhooks = rate(hooks)
    finally:
        server.terminate()
        server.wait(timeout=15)
    events.fold(channel_id=channel.pk)  # what the last events left while the row was busy
    channel.refresh_from_db()
    ledger = dict(
        Delivery.objects.filter(channel=channel)
        .values_list("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
    )
    agrees = channel.outcome_counts == ledger == {"delivered": count} and not channel.in_flight
    return figure(
        "provider status webhooks, 2 web processes (postgresql)",
        f"{webhooks:,.0f} callbacks/s vs {trivial:,.0f} requests/s on a trivial view "
        f"({count:,} callbacks; counters {'equal' if agrees else 'DIFFER from'} the ledger)",
        webhooks / trivial if agrees else 0.0,
        0.5,
    )
