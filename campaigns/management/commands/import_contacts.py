import csv
import time
from contextlib import ExitStack
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.contacts import importing
from campaigns.models import ContactList


class Command(BaseCommand):
    help = (
        "Import a CSV file of contacts into a contact list (created if missing), in streamed "
        "batches, printing progress; rejected rows go to the error report."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("list_name", metavar="LIST", help="the contact list's name")
        parser.add_argument("file", metavar="FILE", type=Path, help="the CSV file")
        parser.add_argument(
            "--region",
            default=settings.HERALD_DEFAULT_REGION,
            help="country of phone numbers written without a country code (default: %(default)s)",
        )
        parser.add_argument(
            "--report",
            type=Path,
            help="write every rejected row (row, column, reason) to this CSV file",
        )
        parser.add_argument("--batch-size", type=int, default=None, help="rows per batch")

    def handle(self, *args, list_name: str, file: Path, region: str, **options) -> None:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise CommandError(f"“{region}” is not a region code such as US, GB or FR.")
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        report_path: Path | None = options["report"]
        shown_errors = 0
        started = time.monotonic()

        with ExitStack() as stack:
            source = stack.enter_context(open(file, "rb"))
            try:
                layout = importing.inspect_csv(source)
            except importing.ImportRefused as exc:
                raise CommandError(f"{file}: {exc} Nothing was imported.") from exc
            contact_list, created = ContactList.objects.get_or_create(name=list_name)
            self.stdout.write(
                f"{'Created' if created else 'Importing into'} list “{contact_list.name}” "
                f"from {file} ({layout.describe()})."
            )
            for sentence in layout.dropped:
                self.stdout.write(f"  Left out: {sentence}")
            writer = None
            if report_path:
                report = stack.enter_context(open(report_path, "w", newline="", encoding="utf-8"))
                writer = csv.writer(report)
            if writer:
                writer.writerow(["row", "column", "reason"])
            totals = importing.ImportResult()
            last_print = started

            def progress(batch: importing.Batch) -> None:
                nonlocal shown_errors, last_print
                totals.add(batch, keep_errors=False)
                if writer:
                    writer.writerows(importing.report_rows(batch.report_lines))
                for error in batch.errors:
                    if shown_errors < 10 and not writer:
                        self.stderr.write(f"  row {error.row}, {error.column}: {error.reason}")
                    shown_errors += 1
                now = time.monotonic()
                if now - last_print < 1:
                    return
                last_print = now
                rate = totals.read / (now - started)
                self.stdout.write(
                    f"  {totals.read:,} rows read: {totals.imported:,} imported, "
                    f"{totals.merged:,} merged, {totals.matched:,} matched an existing "
                    f"contact, {totals.rejected:,} rejected ({rate:,.0f} rows/s)"
                )

            try:
                result = importing.import_csv(
                    contact_list=contact_list,
                    source=source,
                    default_region=region,
                    layout=layout,
                    on_batch=progress,
                    keep_errors=False,
                    batch_rows=options["batch_size"],
                )
            except importing.ImportFailed as exc:
                raise CommandError(
                    f"The import stopped at row {exc.row}: {exc.reason}. Before it: "
                    f"{totals.imported:,} imported, {totals.merged:,} merged, "
                    f"{totals.rejected:,} rejected; nothing from row {exc.row} on."
                ) from exc

        elapsed = time.monotonic() - started
        contact_list.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {elapsed:.1f}s: {result.read:,} rows read, {result.imported:,} "
                f"imported, {result.merged:,} merged, {result.matched:,} matched an existing "
                f"contact (kept as stored), {result.rejected:,} rejected. "
                f"“{contact_list.name}” now has {contact_list.size:,} contacts."
            )
        )
        if shown_errors > 10 and not writer:
            self.stderr.write(
                f"  … and {shown_errors - 10:,} more rejected rows; --report FILE lists them all."
            )
