"""`make bench`: the performance figures of SPEC section 8, as ratios measured in one run.

The command runs itself once per database (SQLite, then PostgreSQL when reachable) against a
scratch database of its own, so the figures never touch your data, then prints one table.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction

ROOT = Path(settings.BASE_DIR)
BENCH_DIR = ROOT / "artifacts" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BENCH_DB = "herald_bench"


class Command(BaseCommand):
    help = "Measure Herald's performance figures (SPEC section 8) and print them as a table."

    def add_arguments(self, parser):
        parser.add_argument("--inside", choices=["sqlite", "postgresql"], help="internal")
        parser.add_argument("--contacts", type=int, default=50_000)
        parser.add_argument("--big", type=int, default=1_000_000)
        parser.add_argument("--import-rows", type=int, default=1_000_000)
        parser.add_argument("--import-rows-postgres", type=int, default=200_000)
        parser.add_argument("--skip-postgres", action="store_true")

    def handle(self, *args, **options):
        if options["inside"]:
            results = run_figures(options["inside"], options)
            self.stdout.write("BENCH-RESULTS " + json.dumps(results))
            return
        rows: list[dict] = []
        targets = [("sqlite", sqlite_url())]
        if not options["skip_postgres"] and postgres_reachable():
            targets.append(("postgresql", fresh_postgres_url()))
        else:
            self.stderr.write("PostgreSQL unreachable or skipped: only SQLite figures.")
        for vendor, url in targets:
            self.stderr.write(f"== measuring on {vendor}")
            rows += run_inside(vendor, url, options)
        self.stdout.write(render_table(rows))


# -- orchestration ---------------------------------------------------------------------------


def sqlite_url() -> str:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def postgres_reachable() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def fresh_postgres_url() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_BENCH_DB}"


def bench_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        # Production settings: with DEBUG on, Django records every query it runs.
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "HERALD_SIMULATOR_LATENCY": "ai_voice=0,sms=0,email=0",
        "HERALD_SIMULATOR_ERROR_RATE": "0",
        "HERALD_LOG_LEVEL": "WARNING",
    }


def run_inside(vendor: str, url: str, options) -> list[dict]:
    env = bench_env(url)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    # Pages are timed with production settings, which serve collected static files.
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    command = [
        *manage,
        "bench",
        "--inside",
        vendor,
        "--contacts",
        str(options["contacts"]),
        "--big",
        str(options["big"]),
        "--import-rows",
        str(options["import_rows"] if vendor == "sqlite" else options["import_rows_postgres"]),
    ]
    output = subprocess.run(
        command, env=env, check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH-RESULTS "))
    return json.loads(line.removeprefix("BENCH-RESULTS "))


def start_workers(count: int, **extra_env: str) -> list[subprocess.Popen]:
    env = {**bench_env(os.environ["DATABASE_URL"]), **extra_env}
    return [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "db_worker", "--no-reload"]
            + ["--interval", "0.05", "--no-startup-delay"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop_workers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


# -- figures measured inside one database ----------------------------------------------------


def run_figures(vendor: str, options) -> list[dict]:
    from campaigns.models import ContactList

    rows: list[dict] = []
    size = options["contacts"]
    contact_list = ContactList.objects.create(name="bench audience")
    make_contacts(contact_list, size)

    raw = raw_floor_rate(contact_list, size)
    one = dispatch_rate(contact_list, workers=1)
    rows.append(
        figure(
            f"dispatch, 1 worker ({vendor})",
            f"{one:,.0f} deliveries/s vs raw SQL floor {raw:,.0f}/s ({size:,} contacts)",
            one / raw,
            0.5,
        )
    )
    if vendor == "postgresql":
        two = dispatch_rate(contact_list, workers=2)
        rows.append(
            figure(
                "dispatch, 2 workers on one channel (postgresql)",
                f"{two:,.0f}/s vs 1 worker {one:,.0f}/s",
                two / one,
                1.6,
            )
        )
        rows.append(voice_concurrency_figure(contact_list))
        big_list = ContactList.objects.create(name="bench million")
        make_contacts(big_list, options["big"])
        small_list = ContactList.objects.create(name="bench ten")
        make_contacts(small_list, 10)
        rows += control_figures(big_list, small_list)
        rows += live_partial_figures(big_list, small_list, deliveries=options["big"])
        rows += campaign_list_figures(small_list)
        rows += analytics_figures(options["big"])
    if options["import_rows"]:
        rows += import_figures(options["import_rows"], vendor)
    return rows


def figure(name: str, measured: str, ratio: float, target: float, *, higher=True) -> dict:
    met = ratio >= target if higher else ratio <= target
    sign = "≥" if higher else "≤"
    return {
        "figure": name,
        "measured": measured,
        "ratio": f"{ratio:.2f}",
        "target": f"{sign} {target}",
        "met": "yes" if met else "NO",
    }


def make_contacts(contact_list, count: int) -> None:
    """Bulk-generate `count` contacts and their memberships in SQL (fast, for any size)."""
    from campaigns.models import Contact, Membership

    contacts, members = Contact._meta.db_table, Membership._meta.db_table
    chunk = 200_000
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {contacts}")
        base = cursor.fetchone()[0]
        for start in range(0, count, chunk):
            n = min(chunk, count - start)
            first = base + start + 1
            series = series_sql(first, first + n - 1)
            cursor.execute(
                f"INSERT INTO {contacts} (id, name, phone, email, timezone, attributes, "
                "opted_out_voice, opted_out_sms, opted_out_email, created_at) "
                f"SELECT i, 'Bench ' || i, '+1202' || substr('0000000' || i, -7, 7), "
                f"'b' || i || '@example.com', 'UTC', '{{}}', false, false, false, "
                f"CURRENT_TIMESTAMP FROM {series}"
            )
            cursor.execute(
                f"INSERT INTO {members} (contact_list_id, contact_id, created_at) "
                f"SELECT {contact_list.pk}, i, CURRENT_TIMESTAMP FROM {series}"
            )
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{contacts}', 'id'), "
                f"(SELECT MAX(id) FROM {contacts}))"
            )
            cursor.execute(f"ANALYZE {contacts}; ANALYZE {members}")
    contact_list.recount()


def series_sql(first: int, last: int) -> str:
    if connection.vendor == "postgresql":
        return f"generate_series({first}, {last}) AS s(i)"
    return (
        f"(WITH RECURSIVE s(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM s "
        f"WHERE i < {last}) SELECT i FROM s)"
    )


def new_channel(contact_list, **kwargs):
    from campaigns.models import Campaign
    from channels.models import Channel

    campaign = Campaign.objects.create(name="bench", contact_list=contact_list)
    return Channel.objects.create(
        campaign=campaign,
        kind=kwargs.pop("kind", Channel.Kind.SMS),
        name=kwargs.pop("name", "bench"),
        sms_template="Hi {first_name}",
        voice_script="Hello {first_name}",
        max_per_second=kwargs.pop("max_per_second", 10_000_000),
        **kwargs,
    )


def raw_floor_rate(contact_list, size: int) -> float:
    """The same delivery rows, written by plain batched INSERTs, one commit per batch."""
    from channels.models import Delivery

    channel = new_channel(contact_list)
    table = Delivery._meta.db_table
    ids = list(contact_list.memberships.order_by("id").values_list("contact_id", flat=True))
    batch = settings.HERALD_ENGINE["batch_size"]
    began = time.perf_counter()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        params = []
        for contact_id in chunk:
            params += [channel.pk, contact_id, "done", "delivered", False, "sim", "", now(), now()]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (channel_id, contact_id, state, outcome, converted, "
                f"provider_id, error, created_at, finished_at) VALUES {values}",
                params,
            )
    return size / (time.perf_counter() - began)


def now():
    from django.utils import timezone

    return timezone.now()


def wait_until_finished(channel, *, timeout: float = 600) -> None:
    from channels.models import Channel

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if Channel.objects.filter(pk=channel.pk, status=Channel.Status.COMPLETED).exists():
            return
        time.sleep(0.02)
    raise RuntimeError(f"channel {channel.pk} did not complete in {timeout}s")


def dispatch_rate(contact_list, *, workers: int) -> float:
    """Start to Completed through real db_worker processes, zero-latency provider."""
    processes = start_workers(workers)
    try:
        time.sleep(3)  # let the workers boot before the clock starts
        channel = new_channel(contact_list)
        began = time.perf_counter()
        channel.start()
        wait_until_finished(channel)
        elapsed = time.perf_counter() - began
    finally:
        stop_workers(processes)
    channel.refresh_from_db()
    return channel.processed / elapsed


def voice_concurrency_figure(contact_list) -> dict:
    """50 concurrent simulated calls of 2 s each: about 25 calls a second."""
    from channels.models import Channel, Delivery

    processes = start_workers(1, HERALD_SIMULATOR_LATENCY="ai_voice=2")
    try:
        time.sleep(3)
        channel = new_channel(
            contact_list, kind=Channel.Kind.AI_VOICE, max_concurrent=50, max_per_second=1000
        )
        channel.start()
        time.sleep(4)  # ramp up
        before, began = Delivery.objects.filter(channel=channel).count(), time.perf_counter()
        time.sleep(20)
        rate = (Delivery.objects.filter(channel=channel).count() - before) / (
            time.perf_counter() - began
        )
        channel.stop()
    finally:
        stop_workers(processes)
    return figure(
        "voice: 50 concurrent 2 s calls, 1 worker",
        f"{rate:.1f} calls/s (ideal 25/s)",
        rate / 25,
        0.8,
    )


def time_action(channels, action: str) -> float:
    samples = []
    for channel in channels:
        began = time.perf_counter()
        getattr(channel, action)()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def control_figures(big_list, small_list) -> list[dict]:
    """Start, pause, resume, stop on a 1,000,000-contact audience vs a 10-contact one."""
    rows = []
    repeats = 7
    big = [new_channel(big_list) for _ in range(repeats)]
    small = [new_channel(small_list) for _ in range(repeats)]
    # No worker runs here: these time the actions themselves, not the dispatching.
    for action in ("start", "pause", "resume", "stop"):
        t_big, t_small = time_action(big, action), time_action(small, action)
        rows.append(
            figure(
                f"{action}, {big_list.size:,}-contact audience",
                f"{t_big * 1000:.1f} ms vs {t_small * 1000:.1f} ms for 10 contacts",
                t_big / t_small,
                2.0,
                higher=False,
            )
        )
    return rows


def analytics_figures(deliveries: int) -> list[dict]:
    from campaigns.analytics_bench import bench_analytics

    result = bench_analytics(deliveries=deliveries)
    return [
        figure(
            f"analytics partial, 20 channels and {deliveries:,} deliveries",
            f"{result['big_ms']:.1f} ms per poll ({result['big_first_ms']:.0f} ms the first, "
            f"uncached), {result['queries_big']} queries vs {result['small_ms']:.1f} ms, "
            f"{result['queries_small']} queries for 1 channel and 10",
            result["big_ms"] / result["small_ms"],
            2.0,
            higher=False,
        )
    ]


def import_figures(rows: int, vendor: str) -> list[dict]:
    from campaigns.benchmarks import bench_import

    result = bench_import(rows=rows)
    return [
        figure(
            f"CSV import, {rows:,} rows ({vendor})",
            f"{result['import_rows_per_s']:,.0f} rows/s vs validation alone "
            f"{result['validation_rows_per_s']:,.0f} rows/s; peak {result['peak_rss_mb']:.0f} MB"
            " (target under 500 MB)",
            result["import_rows_per_s"] / result["validation_rows_per_s"],
            0.6,
        )
    ]


def render_table(rows: list[dict]) -> str:
    headers = ["figure", "measured", "ratio", "target", "met"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(row[h]) for h in headers) + " |" for row in rows]
    return "\n".join(lines)


# -- pages -----------------------------------------------------------------------------------


def signed_in_client():
    from django.contrib.auth.models import User
    from django.test import Client

    # A campaign manager, not a superuser: permission checks are part of each request.
    from campaigns import roles

    user, _ = User.objects.get_or_create(username="bench")
    user.groups.add(roles.group(roles.MANAGERS))
    client = Client()
    client.force_login(user)
    return client


def time_page(client, url: str, *, repeats: int = 15, **headers) -> tuple[float, int]:
    """Median seconds for GET `url`, and the number of queries one request runs."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    client.get(url, headers=headers)  # warm caches and connections
    with connection.execute_wrapper(count):
        response = client.get(url, headers=headers)
    assert response.status_code in (200, 286), (url, response.status_code)
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        client.get(url, headers=headers)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), len(queries)


def add_deliveries(channel, contact_ids: tuple[int, int], *, spread_seconds: int) -> int:
    """Finished deliveries for contacts first..last, created over the last `spread_seconds`."""
    from channels.models import Channel, Delivery

    first, last = contact_ids
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (channel_id, contact_id, state, outcome, converted, "
            "provider_id, error, created_at, finished_at) "
            f"SELECT {channel.pk}, i, 'done', 'delivered', (i % 25 = 0), '', '', "
            f"now() - ((i % {spread_seconds}) * interval '1 second'), now() "
            f"FROM {series_sql(first, last)}"
        )
    count = last - first + 1
    Channel.objects.filter(pk=channel.pk).update(
        processed=count,
        audience_size=count,
        converted=count // 25,
        outcome_counts={"delivered": count},
    )
    return count


def live_partial_figures(big_list, small_list, *, deliveries: int) -> list[dict]:
    """The polled partial: 20 running channels and 1,000,000 deliveries vs 1 and 10."""
    from campaigns.models import Campaign
    from channels.models import Channel

    client = signed_in_client()
    first_contact = big_list.memberships.order_by("contact_id").first().contact_id
    big = Campaign.objects.create(name="bench live big", contact_list=big_list)
    per_channel = deliveries // 20
    for i in range(20):
        channel = new_channel(big_list, name=f"bench {i}")
        Channel.objects.filter(pk=channel.pk).update(campaign=big, status="running")
        first = first_contact + i * per_channel
        add_deliveries(channel, (first, first + per_channel - 1), spread_seconds=3600)
    small = Campaign.objects.create(name="bench live small", contact_list=small_list)
    channel = new_channel(small_list)
    Channel.objects.filter(pk=channel.pk).update(campaign=small, status="running")
    first_small = small_list.memberships.order_by("contact_id").first().contact_id
    add_deliveries(channel, (first_small, first_small + 9), spread_seconds=60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    htmx = {"HX-Request": "true"}
    t_big, q_big = time_page(client, f"/campaigns/{big.pk}/live/", **htmx)
    t_small, q_small = time_page(client, f"/campaigns/{small.pk}/live/", **htmx)
    return [
        figure(
            f"live partial, 20 channels and {deliveries:,} deliveries",
            f"{t_big * 1000:.1f} ms, {q_big} queries vs {t_small * 1000:.1f} ms, "
            f"{q_small} queries for 1 channel and 10 deliveries",
            t_big / t_small,
            2.0,
            higher=False,
        )
    ]


def make_campaigns(contact_list, count: int) -> None:
    """`count` campaigns in every status, each with two channels, in bulk."""
    from campaigns.models import Campaign
    from channels.models import Channel

    statuses = ["draft", "active", "completed", "archived"]
    campaigns = Campaign.objects.bulk_create(
        Campaign(name=f"Bench campaign {i}", contact_list=contact_list, status=statuses[i % 4])
        for i in range(count)
    )
    channel_status = {"draft": "ready", "active": "running", "completed": "completed"}
    Channel.objects.bulk_create(
        Channel(
            campaign=campaign,
            kind=kind,
            name=f"{kind} {campaign.name}",
            status=channel_status.get(campaign.status, "completed"),
            audience_size=100,
            processed=50,
        )
        for campaign in campaigns
        for kind in ("sms", "email")
    )


def campaign_list_figures(contact_list) -> list[dict]:
    """The campaign list under each filter: 10,000 campaigns vs 10."""
    from campaigns.models import Campaign

    client = signed_in_client()
    Campaign.objects.all().delete()
    filters = ["", "?status=draft", "?status=active", "?status=completed", "?status=archived"]
    filters.append("?q=campaign+1")  # matches campaigns in every status but archived
    make_campaigns(contact_list, 10)
    small = {query: time_page(client, f"/campaigns/{query}") for query in filters}
    make_campaigns(contact_list, 9_990)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    big = {query: time_page(client, f"/campaigns/{query}") for query in filters}
    worst = max(filters, key=lambda query: big[query][0] / small[query][0])
    same_queries = all(big[q][1] == small[q][1] for q in filters)
    return [
        figure(
            "campaign list, 10,000 campaigns (worst filter)",
            f"{worst or 'all'}: {big[worst][0] * 1000:.1f} ms vs {small[worst][0] * 1000:.1f} ms "
            f"for 10; queries {big[worst][1]} vs {small[worst][1]}"
            f" ({'the same' if same_queries else 'NOT the same'} under every filter)",
            big[worst][0] / small[worst][0],
            2.0,
            higher=False,
        )
    ]
