"""Background work of the contacts package, run by the same `db_worker` as the engine."""

from django.db import transaction
from django.tasks import task

from . import importing


@task
def import_contacts(*, job_id: int) -> None:
    """Import the next chunk of an uploaded CSV; queue the following chunk if rows are left.

    Chunking lets the engine's tasks run between chunks when a worker is shared.
    """
    if importing.run_import_chunk(job_id=job_id):
        transaction.on_commit(lambda: import_contacts.enqueue(job_id=job_id))
