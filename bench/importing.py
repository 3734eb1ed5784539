"""The CSV import figure: the import rate against the validation alone, in the same run over
the same generated rows, and the importing process's peak memory."""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from campaigns.contacts import importing
from campaigns.models import Contact, ContactList, Membership, normalize_phone

from .processes import ROOT, bench_env, database_url, manage
from .report import figure

AREA_CODES = (201, 202, 212, 213, 305, 310, 312, 404, 415, 512, 617, 646, 702, 718, 917)
BAD_EMAIL_EVERY = 200
DUPLICATE_EVERY = 500


def phone_for(i: int) -> str:
    """A distinct, valid US number for each i, written in one of four common styles."""
    area = AREA_CODES[i % len(AREA_CODES)]
    rest = i // len(AREA_CODES)
    exchange = 200 + rest % 700
    line = (rest // 700) % 10_000
    return (
        f"({area}) {exchange}-{line:04d}",
        f"{area}.{exchange}.{line:04d}",
        f"+1 {area} {exchange} {line:04d}",
        f"{area}{exchange}{line:04d}",
    )[i % 4]


def write_contacts_csv(path: Path, *, rows: int) -> None:
    """Rows like a real export: a few bad emails, a few duplicates, an extra column."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["First Name", "Last Name", "Phone", "Email", "City"])
        for i in range(rows):
            n = i - 1 if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 else i
            email = f"person{n}@example.com" if i % BAD_EMAIL_EVERY else f"person{n}@"
            writer.writerow([f"Person{n}", "Example", phone_for(n), email, "Springfield"])


def validation_rate(path: Path, *, region: str) -> float:
    """Rows per second of the importer's phone and email checks alone; reading the file is
    not timed."""
    elapsed = 0.0
    count = 0
    with open(path, newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        next(reader)
        while True:
            chunk = [
                (row[2], row[3])
                for _, row in zip(range(importing.BATCH_ROWS), reader, strict=False)
            ]
            if not chunk:
                break
            started = time.perf_counter()
            for phone, email in chunk:
                # Not contextlib.suppress: a context manager per row would slow the baseline.
                try:  # noqa: SIM105
                    normalize_phone(phone, region=region)
                except ValidationError:
                    pass
                importing.is_valid_email(email.strip().lower())
            elapsed += time.perf_counter() - started
            count += len(chunk)
    return count / elapsed


def remove_list(list_name: str, *, since) -> None:
    """Delete the benchmark's list and the contacts its import created (not older ones)."""
    contact_list = ContactList.objects.filter(name=list_name).first()
    if contact_list is None:
        return
    created = Membership.objects.filter(
        contact_list=contact_list, contact__created_at__gte=since
    ).values("contact_id")
    with transaction.atomic():
        # Raw deletes: the ORM's collector would load every one of a million contacts. The
        # contacts go first, while their memberships still say which ones they are; foreign
        # keys are checked at commit.
        Contact.objects.filter(pk__in=created)._raw_delete(connection.alias)
        Membership.objects.filter(contact_list=contact_list)._raw_delete(connection.alias)
        contact_list.delete()


def bench_import(*, rows: int) -> dict:
    """Import `rows` generated rows from the command line in a subprocess; return the rates
    (rows/s), their ratio (SPEC target: at least 0.6) and the subprocess's peak RSS (MB)."""
    region = "US"
    list_name = f"bench-import-{os.getpid()}-{time.time_ns()}"
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        path = Path(tmp) / "contacts.csv"
        write_contacts_csv(path, rows=rows)
        validation = validation_rate(path, region=region)
        since = timezone.now()
        command = manage("import_contacts", list_name, str(path), "--region", region)
        started = time.perf_counter()
        try:
            process = subprocess.Popen(
                command,
                env=bench_env(database_url()),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            watch = HighWater(process.pid)
            stderr = process.stderr.read()
            _, status, _ = os.wait4(process.pid, 0)
            watch.stop()
            elapsed = time.perf_counter() - started
            if os.waitstatus_to_exitcode(status):
                raise RuntimeError(f"import_contacts failed:\n{stderr}")
            imported = ContactList.objects.get(name=list_name).size
        finally:
            remove_list(list_name, since=since)
    peak_kib = watch.peak_kib
    import_rate = rows / elapsed
    return {
        "rows": rows,
        "list_size": imported,
        "validation_rows_per_s": round(validation),
        "import_rows_per_s": round(import_rate),
        "ratio": round(import_rate / validation, 3),
        "import_seconds": round(elapsed, 2),
        "peak_rss_mb": round(peak_kib / 1024, 1),
    }


class HighWater:
    """A child's own peak resident memory, read from its `VmHWM` while it runs.

    Not `ru_maxrss`: Linux carries the memory of the process that spawned a child into the
    child's `ru_maxrss` at exec, so an import started by a bench that had grown to 1 GB read
    1 GB whatever the import used. VmHWM belongs to the child's own address space.
    """

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak_kib = pid, every, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def watch(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self.done.is_set():
            try:
                text = status.read_text()
            except OSError:
                return  # gone
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            self.done.wait(self.every)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def import_figures(rows: int, vendor: str) -> list[dict]:
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
