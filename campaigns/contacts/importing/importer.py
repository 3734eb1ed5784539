"""The streamed import of one CSV file into a contact list.

The file is read once, line by line, and applied in batches of `BATCH_ROWS` rows: each batch
is validated outside any transaction (phone and email checks are the costly part), then
written in one transaction (writer.py). With `CHECK_APART_BYTES` or more of the file left, a
child process validates each batch while the one before it is written (checking.py); the
batches, their offsets and the failures are the same either way. Memory therefore depends on
the batch size, never on the file size, and a failure half-way leaves every earlier batch
committed and counted, and nothing of the rest.

Counting: every non-blank data row is *read*, and is exactly one of *imported* (its contact
joined the list), *merged* (its contact was already in the list, or in an earlier row of the
file) or *rejected* (listed in the error report with its row number, column and reason).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

from campaigns.models import ContactList

from .checking import Rows, checker
from .layout import Layout, Lines, inspect_csv, is_blank
from .writer import Batch, BatchWriter, ImportResult

BATCH_ROWS = 2_000
# An import with this much of its file left (~55,000 rows of the bench's file) parses its rows
# in a child process, which takes ~0.8 s to start. Measured on a 50,000-row chunk (a job's):
# PostgreSQL 7.3 s in-process, 5.4 s with the child; SQLite 5.4 s and 4.4-5.2 s.
CHECK_APART_BYTES = 4_000_000


class ImportFailed(Exception):
    """The import stopped at `row`; every row before it was committed and counted."""

    def __init__(self, *, row: int, reason: str) -> None:
        super().__init__(f"Row {row}: {reason}")
        self.row = row
        self.reason = reason


def import_csv(
    *,
    contact_list: ContactList,
    source: BinaryIO,
    default_region: str,
    layout: Layout | None = None,
    start_offset: int | None = None,
    start_row: int | None = None,
    max_rows: int | None = None,
    on_batch: Callable[[Batch], None] | None = None,
    keep_errors: bool = True,
    batch_rows: int | None = None,
    update_existing: bool = False,
    check_apart_bytes: int = CHECK_APART_BYTES,
) -> ImportResult:
    """Import `source` (a binary, seekable file) into the list, batch by batch.

    Raises ImportRefused, with nothing imported, for a file that cannot be imported. With
    `max_rows` it stops after the batch that reaches that many rows; `offset` and `next_row`
    of the result are where to resume (`finished` says whether anything is left).
    """
    if layout is None:
        layout = inspect_csv(source)
    offset = layout.data_offset if start_offset is None else start_offset
    row = layout.first_data_row if start_row is None else start_row
    result = ImportResult(layout=layout, offset=offset, next_row=row)
    writer = BatchWriter(
        contact_list=contact_list,
        result=result,
        on_batch=on_batch,
        keep_errors=keep_errors,
        update_existing=update_existing,
    )
    region = default_region.upper()
    source.seek(0, os.SEEK_END)
    apart = source.tell() - offset >= check_apart_bytes
    batches = BatchReader(
        Lines(source, layout.encoding, offset),
        layout=layout,
        row=row,
        batch_rows=batch_rows or BATCH_ROWS,
        max_rows=max_rows,
    )
    # The batch read before the one being read: (the call giving it parsed, its end, next row).
    pending: tuple[Callable[[], Batch], int, int] | None = None
    with checker(layout=layout, region=region, apart=apart) as check:
        try:
            for rows, end_offset, next_row in batches:
                parsing = check(rows), end_offset, next_row
                if pending is not None:
                    _write(writer, *pending)
                pending = parsing
        except ImportFailed:
            # A record that is not CSV stops the import after the batches before it.
            if pending is not None:
                _write(writer, *pending)
            raise
        if pending is not None:
            _write(writer, *pending)
    if not batches.finished:
        return result
    result.finished = True
    contact_list.refresh_from_db(fields=["size"])
    return result


def _write(
    writer: BatchWriter, parsed: Callable[[], Batch], end_offset: int, next_row: int
) -> None:
    writer.write(parsed(), end_offset=end_offset, next_row=next_row)


class BatchReader:
    """The file's non-blank rows, `batch_rows` at a time, each batch with the offset after it
    and the number of the row after it: where a later chunk resumes. With `max_rows` it stops
    after the batch that reaches that many rows; `finished` says it read to the end."""

    def __init__(
        self, lines: Lines, *, layout: Layout, row: int, batch_rows: int, max_rows: int | None
    ) -> None:
        self.lines = lines
        self.delimiter = layout.delimiter
        self.row = row
        self.batch_rows = batch_rows
        self.max_rows = max_rows
        self.finished = False

    def __iter__(self) -> Iterator[tuple[Rows, int, int]]:
        lines, row = self.lines, self.row
        rows: Rows = []
        read, end_offset = 0, lines.offset
        try:
            for cells in csv.reader(lines, delimiter=self.delimiter):
                this_row, row = row, row + 1
                if is_blank(cells):
                    continue
                rows.append((this_row, cells))
                if len(rows) >= self.batch_rows:
                    yield rows, lines.offset, row
                    read, end_offset, rows = read + len(rows), lines.offset, []
                    if self.max_rows is not None and read >= self.max_rows:
                        return
        except csv.Error as exc:
            raise ImportFailed(row=row, reason=f"the row cannot be read as CSV ({exc})") from exc
        if rows or lines.offset != end_offset:
            yield rows, lines.offset, row
        self.finished = True
