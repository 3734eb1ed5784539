"""Background work of the contacts package, run by the same `db_worker` as the engine."""

from django.db import transaction
from django.tasks import task

from channels.tasks import SUPERVISOR_PRIORITY

from . import importing
from .importing import recovery


@task
def import_contacts(*, job_id: int) -> None:
    """Import the next chunk of an uploaded CSV; queue the following chunk if rows are left.

    Chunking lets the engine's tasks run between chunks when a worker is shared.
    """
    recovery.ensure_watchdog()
    if importing.run_import_chunk(job_id=job_id):
        transaction.on_commit(lambda: import_contacts.enqueue(job_id=job_id))


# Quick, and what revives an import whose worker died: ahead of the engine's slices.
@task(priority=SUPERVISOR_PRIORITY)
def watch_imports(*, token: str) -> None:
    """One tick of the import watchdog (importing/recovery.py)."""
    recovery.watch(token=token)


def queue_import(*, job_id: int) -> None:
    """Queue an import's next chunk, with a watchdog to take it over if its worker dies."""
    import_contacts.enqueue(job_id=job_id)
    recovery.ensure_watchdog()
