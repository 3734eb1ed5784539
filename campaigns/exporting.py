"""CSV out of Herald, streamed, and safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"); tab and carriage return can hide one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: object) -> str:
    """The cell as text, with a leading single quote if a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(rows: Iterable[Iterable[object]], *, bom: bool = True) -> Iterator[str]:
    """CSV lines for a StreamingHttpResponse, every cell neutralised. The UTF-8 BOM makes
    Excel read the file as UTF-8 instead of the machine's code page."""
    if bom:
        yield "\ufeff"
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([neutralize_cell(cell) for cell in row])


def csv_response(rows: Iterable[Iterable[object]], *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
