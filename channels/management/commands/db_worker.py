"""`db_worker` that waits for the database instead of exiting when it does not answer.

django-tasks-db's worker re-raises any database error but a locked SQLite file, so a
database restart or a network blip would stop every worker at once. This one logs, closes
its connections and retries with back-off (doubling up to HERALD_WORKER_MAX_BACKOFF
seconds), at start-up and while it runs; SIGINT/SIGTERM still stop it while it waits.
"""

import contextlib
import logging
import os
import time
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger("django_tasks_db")

FIRST_BACKOFF = 0.5
UNAVAILABLE = (OperationalError, InterfaceError)


def max_backoff() -> float:
    return float(os.environ.get("HERALD_WORKER_MAX_BACKOFF", "30"))


def retry_while_unavailable(work: Callable[[], object], *, who: str) -> object:
    """Run `work` until it ends without the database failing under it."""
    backoff = FIRST_BACKOFF
    while True:
        started = time.monotonic()
        try:
            return work()
        except UNAVAILABLE as error:
            # Work that ran a while before failing saw a working database: start the
            # back-off over, so one blip a day does not mean 30 s waits.
            if time.monotonic() - started > max_backoff():
                backoff = FIRST_BACKOFF
            logger.warning("Database unavailable (%s); %s retrying in %.1f s", error, who, backoff)
            with contextlib.suppress(DatabaseError):
                connections.close_all()
            time.sleep(backoff)
            backoff = min(backoff * 2, max_backoff())


class PatientWorker(db_worker.Worker):
    def run(self) -> None:
        retry_while_unavailable(super().run, who=f"worker_id={self.worker_id}")


class Command(db_worker.Command):
    help = "Run a database background worker that waits for the database when it is down"

    def execute(self, *args, **options):
        # The system checks query the database (SQLite's JSON support): wait for it first.
        self.configure_logging(options.get("verbosity", 1))
        retry_while_unavailable(connection.ensure_connection, who="db_worker starting:")
        return super().execute(*args, **options)


# The library's Command builds `Worker(...)` by its module-level name; this module is only
# imported to run this command (it shadows the library's: `channels` precedes
# `django_tasks_db` in INSTALLED_APPS), so swapping the name is the narrowest change.
db_worker.Worker = PatientWorker
