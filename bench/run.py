"""One bench run: a process per database (SQLite, then PostgreSQL when reachable), each on a
scratch database of its own so the figures never touch your data, gathered in one table."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg

from campaigns.models import ContactList

from .analytics import analytics_figures
from .data import insert_contacts
from .engine import (
    control_figures,
    dispatch_figures,
    first_contact_figure,
    voice_concurrency_figure,
)
from .importing import import_figures
from .pages import campaign_list_figures, live_partial_figures
from .processes import ROOT, bench_env, manage
from .report import render_table
from .webhooks import webhook_figure

BENCH_DIR = ROOT / "artifacts" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# The scratch database, dropped and created again on each run.
PG_BENCH_DB = os.environ.get("BENCH_POSTGRES_DB", "herald_bench")
RESULTS = "BENCH-RESULTS "
# `make bench` measures everything; `manage.py bench --only pages` only the page figures
# (PostgreSQL only: SQLite has none).
GROUPS = ("pages",)


@dataclass(frozen=True)
class Sizes:
    contacts: int = 50_000  # the dispatch audience
    big: int = 1_000_000  # the big audience and ledger of the controls and the pages
    import_rows: int = 1_000_000  # the CSV import on SQLite
    import_rows_postgres: int = 200_000  # the CSV import on PostgreSQL


def measure(
    sizes: Sizes, *, skip_postgres: bool, say: Callable[[str], object], only: str | None = None
) -> str:
    """Every figure (or the `only` group's) on every database, as `make bench` prints them."""
    targets = [] if only == "pages" else [("sqlite", sqlite_url())]
    if not skip_postgres and postgres_reachable():
        targets.append(("postgresql", fresh_postgres_url()))
    else:
        say("PostgreSQL unreachable or skipped: only SQLite figures.")
    rows: list[dict] = []
    for vendor, url in targets:
        say(f"== measuring on {vendor}")
        rows += run_inside(vendor, url, sizes, only=only)
    return render_table(rows)


def sqlite_url() -> str:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def postgres_reachable() -> bool:
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def fresh_postgres_url() -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_BENCH_DB}"


def run_inside(vendor: str, url: str, sizes: Sizes, *, only: str | None = None) -> list[dict]:
    """Migrate the scratch database at `url`, then measure in a process using it."""
    env = bench_env(url)
    subprocess.run(manage("migrate", "-v0"), env=env, check=True, cwd=ROOT)
    # Pages are timed with production settings, which serve collected static files.
    subprocess.run(manage("collectstatic", "--noinput", "-v0"), env=env, check=True, cwd=ROOT)
    flags = [f"--{name.replace('_', '-')}={value}" for name, value in asdict(sizes).items()]
    if only:
        flags.append(f"--only={only}")
    command = manage("bench", "--inside", vendor, *flags)
    output = subprocess.run(
        command, env=env, check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith(RESULTS))
    return json.loads(line.removeprefix(RESULTS))


def figures_inside(vendor: str, sizes: Sizes, *, only: str | None = None) -> list[dict]:
    """The figures of one database, measured in this process (`bench --inside`)."""
    if only == "pages":
        return page_figures(sizes)
    contact_list = ContactList.objects.create(name="bench audience")
    insert_contacts(contact_list, sizes.contacts)
    rows = dispatch_figures(contact_list, vendor=vendor)
    rows.append(first_contact_figure(contact_list, vendor=vendor))
    if vendor == "postgresql":
        rows.append(voice_concurrency_figure(contact_list))
        big_list = ContactList.objects.create(name="bench million")
        insert_contacts(big_list, sizes.big)
        small_list = ContactList.objects.create(name="bench ten")
        insert_contacts(small_list, 10)
        rows += control_figures(big_list, small_list)
        rows += page_figures(sizes, big_list=big_list, small_list=small_list)
        rows.append(webhook_figure(contact_list, count=min(sizes.contacts, 5000)))
    import_rows = sizes.import_rows if vendor == "sqlite" else sizes.import_rows_postgres
    if import_rows:
        rows += import_figures(import_rows, vendor)
    return rows


def page_figures(sizes: Sizes, *, big_list=None, small_list=None) -> list[dict]:
    """The pages everyone opens or polls, big data against small (PostgreSQL)."""
    if big_list is None:
        big_list = ContactList.objects.create(name="bench million")
        insert_contacts(big_list, sizes.big)
    if small_list is None:
        small_list = ContactList.objects.create(name="bench ten")
        insert_contacts(small_list, 10)
    rows = live_partial_figures(big_list, small_list, deliveries=sizes.big)
    rows += campaign_list_figures(small_list)
    rows += analytics_figures(sizes.big)
    return rows
