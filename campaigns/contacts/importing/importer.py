"""The streamed import of one CSV file into a contact list.

The file is read once, line by line, and applied in batches of `BATCH_ROWS` rows: each batch
is validated outside any transaction (phone and email checks are the costly part), then
written in one transaction (writer.py). Memory therefore depends on the batch size, never on
the file size, and a failure half-way leaves every earlier batch committed and counted, and
nothing of the rest.

Counting: every non-blank data row is *read*, and is exactly one of *imported* (its contact
joined the list), *merged* (its contact was already in the list, or in an earlier row of the
file) or *rejected* (listed in the error report with its row number, column and reason).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import BinaryIO

from campaigns.models import ContactList

from .layout import Layout, Lines, inspect_csv, is_blank
from .rows import parse_row
from .writer import Batch, BatchWriter, ImportResult

BATCH_ROWS = 2_000


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
    lines = Lines(source, layout.encoding, offset)
    region = default_region.upper()
    batch_rows = batch_rows or BATCH_ROWS
    batch = Batch()
    try:
        for cells in csv.reader(lines, delimiter=layout.delimiter):
            this_row, row = row, row + 1
            if is_blank(cells):
                continue
            batch.add(*parse_row(cells, row=this_row, layout=layout, region=region), row=this_row)
            if batch.read >= batch_rows:
                writer.write(batch, end_offset=lines.offset, next_row=row)
                batch = Batch()
                if max_rows is not None and result.read >= max_rows:
                    return result
    except csv.Error as exc:
        raise ImportFailed(row=row, reason=f"the row cannot be read as CSV ({exc})") from exc
    if batch.read or lines.offset != result.offset:
        writer.write(batch, end_offset=lines.offset, next_row=row)
    result.finished = True
    contact_list.refresh_from_db(fields=["size"])
    return result
