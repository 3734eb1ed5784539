"""An upload imported by the background workers (`ImportJob`), one chunk per task.

A chunk works through `CHUNK_ROWS` rows from where the last committed batch ended, then the
task queues the next chunk, so that an import of a million rows never holds a worker the
engine's channels need. The file's layout is learned once (by the upload form, else by the
first chunk) and stored on the job; each batch moves the job's offset, counts and error
report in its own transaction, and only if the job is still where this worker left it.

That compare-and-set is what makes a takeover safe: a worker that finds the job moved on (by
a worker that took it over after this one stalled, or cancelled, or deleted with its list)
rolls its batch back and ends its chunk quietly; the job goes on, or stays as it ended.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Iterator
from typing import BinaryIO

from django.db import models, transaction
from django.utils import timezone

from campaigns.models import ContactList, ImportJob

from .importer import ImportFailed, import_csv
from .layout import ImportRefused, Layout, inspect_csv
from .rows import RowError
from .writer import Batch

logger = logging.getLogger("herald.importing")

# A background import works through this many rows per task, then queues its next chunk.
CHUNK_ROWS = 50_000


def start_import(
    *,
    contact_list: ContactList,
    upload,
    default_region: str,
    by,
    layout: Layout | None = None,
    update_existing: bool = False,
) -> ImportJob:
    """Store the upload and queue its import once the surrounding transaction commits.

    `layout`, when the caller has inspected the upload already, is stored with the job so
    that no chunk reads the file to learn it again.
    """
    from campaigns.contacts import tasks

    job = ImportJob.objects.create(
        contact_list=contact_list,
        file=upload,
        original_name=upload.name[:255],
        default_region=default_region.upper(),
        size_bytes=upload.size or 0,
        layout=layout.to_json() if layout else None,
        update_existing=update_existing,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: tasks.queue_import(job_id=job.pk))
    return job


def report_rows(errors: list[RowError]) -> Iterator[list]:
    for error in errors:
        yield [error.row, error.column, error.reason]


def _layout_of(job: ImportJob, source: BinaryIO) -> Layout:
    """The job's stored layout; the first chunk of a job queued without one learns it."""
    if job.layout is None:
        job.layout = inspect_csv(source).to_json()
        ImportJob.objects.filter(pk=job.pk).update(layout=job.layout)
    return Layout.from_json(job.layout)


def _report_path(job: ImportJob) -> str:
    if not job.error_report:
        name = f"imports/reports/job-{job.pk}-errors.csv"
        ImportJob.objects.filter(pk=job.pk).update(error_report=name)
        job.error_report.name = name
    # The report is appended batch by batch, so it needs a real file (FileSystemStorage).
    path = job.error_report.path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


class TakenOver(Exception):
    """The job is no longer where this worker left it: another worker took it over, or it
    was cancelled or deleted. This worker's batch is rolled back and its chunk ends."""


class Progress:
    """Records each committed batch on the job: its counts, where the next chunk resumes and
    the batch's lines of the error report, appended to `report`."""

    def __init__(self, job: ImportJob, report: BinaryIO) -> None:
        self.job = job
        self.report = report
        # Where the job stands as far as this worker knows; a batch is recorded only if the
        # job is still there, so a worker that lost the job to another one stops.
        self.offset = job.offset_bytes
        self.report_bytes = job.error_report_bytes
        # Lines written by a batch whose transaction did not commit are not part of the report.
        report.truncate(self.report_bytes)
        report.seek(self.report_bytes)
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def record(self, batch: Batch) -> None:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerows(report_rows(batch.report_lines))
        data = self.buffer.getvalue().encode()
        self.report.write(data)
        self.report.flush()
        updated = ImportJob.objects.filter(
            pk=self.job.pk, status=ImportJob.Status.RUNNING, offset_bytes=self.offset
        ).update(
            offset_bytes=batch.end_offset,
            next_row=batch.next_row,
            rows_read=models.F("rows_read") + batch.read,
            rows_imported=models.F("rows_imported") + batch.imported,
            rows_merged=models.F("rows_merged") + batch.merged,
            rows_matched=models.F("rows_matched") + batch.matched,
            rows_rejected=models.F("rows_rejected") + batch.rejected,
            error_report_bytes=self.report_bytes + len(data),
            heartbeat_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if updated != 1:
            raise TakenOver
        self.offset = batch.end_offset
        self.report_bytes += len(data)


def run_import_chunk(*, job_id: int) -> bool:
    """Work through the next `CHUNK_ROWS` rows of a queued or running import job.

    Returns True when rows are left for another chunk. A refusal or a failure finishes the
    job as failed, with what was committed before it counted and reported; a failure a
    resume could get past (not the file's fault: a database error, say) keeps the upload.
    """
    job = ImportJob.objects.select_related("contact_list").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return False
    job.start()
    job.beat()
    try:
        with open(_report_path(job), "a+b") as report, job.file.open("rb") as source:
            progress = Progress(job, report)
            result = import_csv(
                contact_list=job.contact_list,
                source=source,
                default_region=job.default_region,
                layout=_layout_of(job, source),
                start_offset=job.offset_bytes or None,
                start_row=job.next_row if job.offset_bytes else None,
                max_rows=CHUNK_ROWS,
                on_batch=progress.record,
                keep_errors=False,
                update_existing=job.update_existing,
            )
    except (ImportRefused, ImportFailed) as exc:
        job.finish(failure=str(exc))
        return False
    except Exception as exc:
        current = ImportJob.objects.filter(pk=job.pk).first()
        if current is None or current.is_finished or isinstance(exc, TakenOver):
            # Cancelled, deleted with its list, or taken over by a worker that found this
            # one stalled: nothing of this chunk's last batch was kept, and nothing failed.
            logger.info("Import job %s moved on without this worker; its chunk ends", job.pk)
            if current is None:
                _delete_files_of_deleted(job)
            return False
        logger.exception("Import job %s failed", job.pk)
        # The batches before the failure have moved `next_row` on.
        job.finish(
            failure=f"Row {current.next_row}: the import stopped on an error ({exc}).",
            resumable=True,
        )
        return False
    if result.finished:
        job.finish()
        return False
    return True


def _delete_files_of_deleted(job: ImportJob) -> None:
    """A job deleted with its list while this worker ran it: the list's deletion removed its
    files, but this worker may have created the report again since."""
    for field in (job.file, job.error_report):
        if field.name:
            field.storage.delete(field.name)
