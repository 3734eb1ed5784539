"""The CSV importer: a spreadsheet of contacts into a contact list.

- layout.py: the file's encoding, delimiter and columns (`inspect_csv`, `Layout`);
- rows.py: one row into a contact, a parser per column (`parse_row`);
- writer.py: a batch of rows committed into the list (`write_batch`);
- checking.py: a batch of rows parsed, in-process or in a child process (`parse_batch`);
- importer.py: a whole file, streamed batch by batch (`import_csv`);
- job.py: an upload imported by the background workers, chunk by chunk (`run_import_chunk`).
"""

from .importer import BATCH_ROWS, ImportFailed, import_csv
from .job import CHUNK_ROWS, report_rows, run_import_chunk, start_import
from .layout import ImportRefused, Layout, decode_upload, inspect_csv
from .rows import RowError, is_valid_email
from .writer import Batch, ImportResult

__all__ = [
    "BATCH_ROWS",
    "CHUNK_ROWS",
    "Batch",
    "ImportFailed",
    "ImportRefused",
    "ImportResult",
    "Layout",
    "decode_upload",
    "RowError",
    "import_csv",
    "inspect_csv",
    "is_valid_email",
    "report_rows",
    "run_import_chunk",
    "start_import",
]
