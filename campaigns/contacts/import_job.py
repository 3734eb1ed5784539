"""An upload imported into a contact list by the background workers: its status, its
progress, its heartbeat, and the actions a person takes on it (cancel, resume)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from channels.models import AlreadyDone, InvalidTransition


class ImportJob(models.Model):
    """One CSV upload being imported into a list by the background workers."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
    UNFINISHED_STATUSES = frozenset({Status.QUEUED, Status.RUNNING})
    # The actions a person takes on an import: the statuses each is allowed from, and where
    # it leads. Resuming needs the upload too (`can_resume`).
    TRANSITIONS = {
        "cancel": (UNFINISHED_STATUSES, Status.CANCELLED),
        "resume": (frozenset({Status.FAILED}), Status.QUEUED),
    }

    contact_list = models.ForeignKey(
        "campaigns.ContactList", on_delete=models.CASCADE, related_name="imports"
    )
    # Blank once the import no longer needs it (`discard_upload`): completed, cancelled, or
    # failed in a way a resume could not fix. A failed import that can resume keeps it.
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    default_region = models.CharField(max_length=2)
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    # The file's encoding, delimiter and columns (importing.Layout.to_json), learned once:
    # finding the encoding reads the whole file, which each chunk must not do again.
    layout = models.JSONField(null=True, blank=True, editable=False)
    # The file size, and how far into it the committed batches reach: the progress bar, and
    # where the next chunk of the task resumes.
    size_bytes = models.PositiveBigIntegerField(default=0)
    offset_bytes = models.PositiveBigIntegerField(default=0)
    next_row = models.PositiveIntegerField(default=2)
    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_merged = models.PositiveIntegerField(default=0)
    # Rows that are a stored contact with another name or address (SPEC section 1), listed
    # in the report with both names; their stored fields change only with `update_existing`.
    rows_matched = models.PositiveIntegerField(default=0)
    update_existing = models.BooleanField(default=False)
    rows_rejected = models.PositiveIntegerField(default=0)
    # The rejected rows as CSV (row, column, reason), appended batch by batch; only its first
    # `error_report_bytes` belong to committed batches.
    error_report = models.FileField(upload_to="imports/reports/", max_length=300, blank=True)
    error_report_bytes = models.PositiveBigIntegerField(default=0)
    failure = models.TextField(blank=True)
    # When a worker last showed it was alive on this import (it started a chunk or committed
    # a batch); an unfinished import whose heartbeat is older than HERALD_IMPORT_STALL_SECONDS
    # is taken over by another worker (importing/recovery.py).
    heartbeat_at = models.DateTimeField(default=timezone.now)
    # The last time the watchdog queued a chunk for it after it stalled, and how often.
    taken_over_at = models.DateTimeField(null=True, blank=True)
    takeovers = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The import watchdog (importing/recovery.py) looks for unfinished imports on
            # every tick; finished ones are nearly all of the table.
            models.Index(
                fields=["heartbeat_at"],
                name="importjob_unfinished_idx",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} into {self.contact_list}"

    def get_absolute_url(self) -> str:
        return reverse("contacts:import_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    @property
    def is_stalled(self) -> bool:
        """Unfinished, and no worker has shown it is alive on it for a while: its worker
        died, and another one takes it over from its last committed batch."""
        stale = timezone.now() - timedelta(seconds=settings.HERALD_IMPORT_STALL_SECONDS)
        return not self.is_finished and self.heartbeat_at < stale

    @property
    def can_cancel(self) -> bool:
        return self.status in self.TRANSITIONS["cancel"][0]

    @property
    def can_resume(self) -> bool:
        return self.status in self.TRANSITIONS["resume"][0] and bool(self.file)

    @property
    def dropped_columns(self) -> list[str]:
        """What the file had that the import leaves out, each in words (layout.py)."""
        return list((self.layout or {}).get("dropped", []))

    def start(self) -> None:
        """Queued → running. A job already running (a chunk after the first, or one another
        worker took over) stays as it is."""
        now = timezone.now()
        ImportJob.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(
            status=self.Status.RUNNING,
            started_at=Coalesce("started_at", models.Value(now)),
            heartbeat_at=now,
            updated_at=now,
        )

    def beat(self) -> None:
        """A worker is alive on this import (importing/recovery.py reads it)."""
        ImportJob.objects.filter(pk=self.pk, status__in=self.UNFINISHED_STATUSES).update(
            heartbeat_at=timezone.now()
        )

    def finish(self, *, failure: str = "", resumable: bool = False) -> None:
        """Completed, or failed with `failure` saying why; a finished job stays as it ended.

        The upload goes once it is not needed: kept only by a failure a resume can get past.
        """
        now = timezone.now()
        status = self.Status.FAILED if failure else self.Status.COMPLETED
        # One transaction: a finished import is never seen still holding a file it let go.
        with transaction.atomic():
            finished = (
                ImportJob.objects.filter(pk=self.pk)
                .exclude(status__in=self.FINISHED_STATUSES)
                .update(status=status, failure=failure, finished_at=now, updated_at=now)
            )
            if finished and not resumable:
                self.discard_upload()

    def cancel(self, *, by=None) -> None:
        """Stop an unfinished import: what its committed batches imported stays, the rest of
        the file is not read; a worker on it stops at its next batch (its compare-and-set
        finds the job no longer running)."""
        with transaction.atomic():
            self._transition("cancel", by=by)
            self.discard_upload()

    def resume(self, *, by=None) -> None:
        """Queue a failed import again, from its last committed batch."""
        from . import tasks

        if self.status == self.Status.FAILED and not self.file:
            raise InvalidTransition(
                "This import cannot be resumed: its file is no longer kept. Upload it again."
            )
        job_id = self.pk
        self._transition(
            "resume", by=by, failure="", finished_at=None, heartbeat_at=timezone.now()
        )
        transaction.on_commit(lambda: tasks.queue_import(job_id=job_id))

    def _transition(self, action: str, *, by, **changes) -> None:
        from campaigns.models import ActivityEvent

        allowed, target = self.TRANSITIONS[action]
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().filter(pk=self.pk).first()
            if job is None:
                raise InvalidTransition("This import no longer exists.")
            if job.status == target:
                raise AlreadyDone(f"This import is already {job.get_status_display().lower()}.")
            if job.status not in allowed:
                raise InvalidTransition(
                    f"This import is {job.get_status_display().lower()}; it cannot be "
                    f"{'cancelled' if action == 'cancel' else 'resumed'}."
                )
            ImportJob.objects.filter(pk=job.pk).update(
                status=target, updated_at=timezone.now(), **changes
            )
            ActivityEvent.record(
                actor=by,
                action=f"{action}_import",
                subject=f"import of “{job.original_name}” into “{self.contact_list.name}”",
                from_status=job.status,
                to_status=target,
            )
        self.refresh_from_db()

    def discard_upload(self) -> None:
        """Delete the uploaded file once the transaction commits, and forget its name."""
        name = ImportJob.objects.filter(pk=self.pk).values_list("file", flat=True).first()
        if not name:
            return
        ImportJob.objects.filter(pk=self.pk).update(file="")
        self.file.name = ""
        storage = ImportJob._meta.get_field("file").storage
        transaction.on_commit(lambda: storage.delete(name))

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.COMPLETED:
            return 100
        if not self.size_bytes:
            return 0
        return min(99, self.offset_bytes * 100 // self.size_bytes)
