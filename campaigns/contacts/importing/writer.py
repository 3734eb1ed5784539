"""The batch writer: a batch of parsed rows committed into the list in one transaction.

A batch's rows go through `ContactList.add_or_merge` (new contacts inserted, known ones
merged, memberships and the list's size moved), and the batch's bookkeeping (`on_batch`: a
job's progress and error report) commits in the same transaction, so what is counted is
exactly what was imported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction

from campaigns.contacts.merging import Match
from campaigns.models import Contact, ContactList

from .layout import Layout
from .rows import Candidate, RowError

logger = logging.getLogger("herald.importing")

# PostgreSQL plans the batch look-ups from table statistics; on a table that a big import
# has just grown from nothing, stale statistics turn each look-up into a sequential scan
# (measured: 62 ms instead of 5 ms at 200,000 contacts, growing with the table). So the
# importer refreshes them after 10,000 new contacts, 20,000, 40,000… a few times an import.
FIRST_ANALYZE = 10_000


@dataclass
class Counts:
    """Rows read, and what became of each: imported, merged, matched (a stored contact with
    another name or address, SPEC section 1) or rejected. `errors` gives the reasons of the
    rejected rows, `matches` both names of each matched one."""

    read: int = 0
    imported: int = 0
    merged: int = 0
    matched: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    matches: list[RowError] = field(default_factory=list)


@dataclass
class Batch(Counts):
    """What one committed batch did; handed to `on_batch` inside its transaction."""

    end_offset: int = 0
    next_row: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # each candidate's row in the file

    @property
    def report_lines(self) -> list[RowError]:
        """The batch's lines of the import report: its rejected and matched rows, in order."""
        return sorted(self.errors + self.matches, key=lambda line: line.row)

    def add(self, candidate: Candidate | None, errors: list[RowError], *, row: int = 0) -> None:
        self.read += 1
        if candidate is None:
            self.rejected += 1
            self.errors.extend(errors)
        else:
            self.candidates.append(candidate)
            self.rows.append(row)


@dataclass
class ImportResult(Counts):
    """What a whole import (or a chunk of one) did, and where the next chunk resumes."""

    finished: bool = False
    offset: int = 0
    next_row: int = 0
    layout: Layout | None = None

    def add(self, batch: Batch, *, keep_errors: bool) -> None:
        self.read += batch.read
        self.imported += batch.imported
        self.merged += batch.merged
        self.matched += batch.matched
        self.rejected += batch.rejected
        if keep_errors:
            self.errors.extend(batch.errors)
            self.matches.extend(batch.matches)
        self.offset = batch.end_offset
        self.next_row = batch.next_row


def match_reason(match: Match) -> str:
    done = "updated from this row" if match.updated else "kept as it was"
    return (
        f"matched an existing contact: “{match.stored_name or 'no name'}” (this row: "
        f"“{match.incoming_name or 'no name'}”); the stored contact was {done}"
    )


def write_batch(
    *,
    contact_list: ContactList,
    batch: Batch,
    on_batch: Callable[[Batch], None] | None,
    update_existing: bool = False,
) -> None:
    with transaction.atomic():
        added = contact_list.add_or_merge(batch.candidates, update_existing=update_existing)
        entered = sum(match.joined for match in added.matched)
        batch.imported = added.joined - entered
        batch.merged = added.merged - (len(added.matched) - entered)
        batch.matched = len(added.matched)
        batch.matches = [RowError(batch.rows[m.index], "", match_reason(m)) for m in added.matched]
        if on_batch is not None:
            on_batch(batch)
    # With DEBUG on Django keeps every query's SQL; a million rows of INSERTs would not fit.
    # (A forced debug cursor is someone, a test, counting queries on purpose.)
    if not connection.force_debug_cursor:
        connection.queries_log.clear()


def refresh_statistics() -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Contact._meta.db_table)}")
    except DatabaseError:
        # Not the table's owner, say: the import still works, only slower.
        logger.warning("Could not ANALYZE the contact table", exc_info=True)


class BatchWriter:
    """Writes an import's batches into one list and adds them up in `result`."""

    def __init__(
        self,
        *,
        contact_list: ContactList,
        result: ImportResult,
        on_batch: Callable[[Batch], None] | None,
        keep_errors: bool,
        update_existing: bool = False,
    ) -> None:
        self.update_existing = update_existing
        self.contact_list = contact_list
        self.result = result
        self.on_batch = on_batch
        self.keep_errors = keep_errors
        self.next_analyze = FIRST_ANALYZE

    def write(self, batch: Batch, *, end_offset: int, next_row: int) -> None:
        batch.end_offset, batch.next_row = end_offset, next_row
        write_batch(
            contact_list=self.contact_list,
            batch=batch,
            on_batch=self.on_batch,
            update_existing=self.update_existing,
        )
        self.result.add(batch, keep_errors=self.keep_errors)
        if self.result.imported >= self.next_analyze:
            refresh_statistics()
            self.next_analyze *= 2
