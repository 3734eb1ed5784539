"""A CSV file's layout: its encoding, delimiter and columns, learned once per file.

`inspect_csv` reads the whole file once to choose its encoding (a decoder that fails on the
last byte must not be chosen), then its first lines for the delimiter and the header. The
`Layout` it returns is all an import needs to read the file from any byte offset, so a
background job stores it (`ImportJob.layout`) and its later chunks never read the file again
to learn it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

from campaigns.models import Contact
from channels.models import Channel

SCAN_BYTES = 1 << 20
# How much of the file's first lines the delimiter sniffer reads.
SNIFF_CHARS = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")

# A column of yes/no for one kind of opt-out, by the kind it is about.
OPT_OUT_COLUMN_ALIASES = {
    Channel.Kind.AI_VOICE: {"opted_out_voice", "opt_out_voice", "opted_out_calls"},
    Channel.Kind.SMS: {"opted_out_sms", "opt_out_sms"},
    Channel.Kind.EMAIL: {"opted_out_email", "opt_out_email"},
}
# Header spellings, compared after `header_key()`; the first column to match a field wins and
# any further one is left out, and said so (`_map_header`).
ALIASES = {
    "name": {"name", "full_name", "fullname", "contact_name", "contact"},
    "first_name": {"first_name", "firstname", "first", "given_name", "forename"},
    "last_name": {"last_name", "lastname", "last", "surname", "family_name"},
    "phone": {
        "phone",
        "phone_number",
        "phonenumber",
        "mobile",
        "mobile_number",
        "mobile_phone",
        "cell",
        "cell_phone",
        "telephone",
        "tel",
        "msisdn",
    },
    "email": {"email", "e_mail", "email_address", "mail"},
    "timezone": {"timezone", "time_zone", "tz"},
    "opted_out": {"opted_out", "opt_out", "optout", "opted_out_of"},
    **{Contact.opt_out_field(kind): aliases for kind, aliases in OPT_OUT_COLUMN_ALIASES.items()},
}
FIELD_OF_ALIAS = {alias: name for name, aliases in ALIASES.items() for alias in aliases}

BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or a ZIP archive",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
}
SAVE_AS_CSV = "In your spreadsheet choose File › Save as › CSV UTF-8 and upload that file."
OLD_MAC_LINE_ENDINGS = (
    f"This file uses old Macintosh line endings, which Herald does not read. {SAVE_AS_CSV}"
)


class ImportRefused(Exception):
    """The file cannot be imported at all; nothing was imported. `str()` says why."""


def header_key(text: str) -> str:
    """“Mobile Phone” → “mobile_phone”: how headers are matched and attributes named."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


@dataclass(frozen=True)
class Layout:
    """What `inspect_csv` learned from a file: how to decode it and what each column holds."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    fields: dict[str, int]
    attributes: tuple[tuple[int, str], ...]
    data_offset: int
    first_data_row: int
    # Columns the import leaves out, each said in a sentence (`_map_header`).
    dropped: tuple[str, ...] = ()

    def column(self, field_name: str) -> str:
        return self.header[self.fields[field_name]]

    @property
    def address_columns(self) -> str:
        return " / ".join(self.column(f) for f in ("phone", "email") if f in self.fields)

    def describe(self) -> str:
        encoding = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with a BOM"}.get(
            self.encoding, self.encoding
        )
        delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[self.delimiter]
        return f"{encoding}, {delimiter}-separated, {len(self.header)} columns"

    def to_json(self) -> dict:
        """What `ImportJob.layout` stores; `from_json` gives the same layout back."""
        return {
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header": list(self.header),
            "fields": self.fields,
            "attributes": [list(pair) for pair in self.attributes],
            "data_offset": self.data_offset,
            "first_data_row": self.first_data_row,
            "dropped": list(self.dropped),
        }

    @classmethod
    def from_json(cls, data: dict) -> Layout:
        return cls(
            **{
                **data,
                "header": tuple(data["header"]),
                "attributes": tuple((index, key) for index, key in data["attributes"]),
                "dropped": tuple(data.get("dropped", ())),
            }
        )


def _detect_encoding(source: BinaryIO) -> str:
    """UTF-8 (with or without a BOM) when the whole file decodes as such, else Windows-1252
    (what Excel writes on Windows), else Latin-1, which decodes anything."""
    source.seek(0)
    head = source.read(8)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportRefused(f"This file is in UTF-16, which Herald does not read. {SAVE_AS_CSV}")
    for signature, what in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise ImportRefused(f"This file looks like {what}, not a CSV file. {SAVE_AS_CSV}")
    source.seek(0)
    candidates = {
        "utf-8": codecs.getincrementaldecoder("utf-8")(),
        "cp1252": codecs.getincrementaldecoder("cp1252")(),
    }
    while chunk := source.read(SCAN_BYTES):
        if b"\0" in chunk:
            raise ImportRefused(f"This is not a CSV file: it holds binary data. {SAVE_AS_CSV}")
        for name, decoder in list(candidates.items()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                del candidates[name]
    for name, decoder in list(candidates.items()):
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            del candidates[name]
    source.seek(0)
    if "utf-8" in candidates:
        return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    return "cp1252" if "cp1252" in candidates else "latin-1"


def decode_upload(source: BinaryIO) -> str:
    """The whole of a small upload as text, after the importer's checks: not a workbook, an
    image or other binary data, not UTF-16, no old Macintosh line endings. Raises
    ImportRefused saying which."""
    encoding = _detect_encoding(source)
    text = source.read().decode(encoding)
    source.seek(0)
    if re.search("\r(?!\n)", text):
        raise ImportRefused(OLD_MAC_LINE_ENDINGS)
    return text


class Lines:
    """Decoded lines of a binary file, remembering the byte offset after the last one read,
    so that the offset after each CSV record is where a later chunk can resume."""

    def __init__(self, source: BinaryIO, encoding: str, offset: int) -> None:
        source.seek(offset)
        self.source = source
        self.offset = offset
        self.bom = encoding == "utf-8-sig" and offset == 0
        self.decode = codecs.getdecoder("utf-8" if encoding == "utf-8-sig" else encoding)

    def __iter__(self) -> Iterator[str]:
        decode = self.decode
        # readline, not iteration: iterating a Django File (an upload, a FieldFile) starts
        # again from the beginning of the file.
        for raw in iter(self.source.readline, b""):
            self.offset += len(raw)
            if self.bom:
                self.bom = False
                yield decode(raw)[0].removeprefix("\ufeff")
                continue
            yield decode(raw)[0]


def is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _quoted(titles: list[str], *, at_most: int = 5) -> str:
    shown = ", ".join(f"“{title}”" for title in titles[:at_most])
    return shown + (f" and {len(titles) - at_most:,} more" if len(titles) > at_most else "")


def _map_header(
    header: list[str],
) -> tuple[dict[str, int], tuple[tuple[int, str], ...], tuple[str, ...]]:
    """Which column holds each field, which ones become attributes (at most
    HERALD_MAX_ATTRIBUTES, under the name they are matched by), and what is left out, in
    words: a second column for a field, a second column of an attribute's name, attribute
    columns past the cap, columns without a title."""
    fields: dict[str, int] = {}
    attributes: list[tuple[int, str]] = []
    taken: set[str] = set()
    # (the column read, what it holds) -> the later columns holding the same, left out
    repeated: dict[tuple[str, str], list[str]] = {}
    over_cap: list[str] = []
    untitled = 0
    max_attributes = settings.HERALD_MAX_ATTRIBUTES
    for index, title in enumerate(header):
        key = header_key(title)
        name = FIELD_OF_ALIAS.get(key)
        if name:
            if name in fields:
                what = name.replace("_", " ")
                repeated.setdefault((header[fields[name]], what), []).append(title)
            else:
                fields[name] = index
            continue
        if not key:
            untitled += 1
            continue
        # Attribute names are template placeholders ({city}), so they must be identifiers.
        if key[0].isdigit():
            key = f"column_{key}"
        if key in taken:
            first = next(header[i] for i, k in attributes if k == key)
            repeated.setdefault((first, f"“{key}”"), []).append(title)
        elif len(attributes) >= max_attributes:
            over_cap.append(title)
        else:
            attributes.append((index, key))
            taken.add(key)
    dropped = [
        f"{_quoted(others)}: another {what} column; only “{first}” is read."
        for (first, what), others in repeated.items()
    ]
    if over_cap:
        dropped.append(
            f"{len(over_cap):,} more column{'s' if len(over_cap) > 1 else ''} "
            f"({_quoted(over_cap)}): a contact keeps at most {max_attributes:,} attributes."
        )
    if untitled:
        dropped.append(
            f"{untitled:,} column{'s' if untitled > 1 else ''} without a title in the header."
        )
    return fields, tuple(attributes), tuple(dropped)


def _choose_delimiter(first_line: str, sample: str) -> str:
    """The delimiter that splits the header into the most recognised columns; csv.Sniffer
    decides when no delimiter yields a recognised column."""

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        return (sum(header_key(c) in FIELD_OF_ALIAS for c in cells), len(cells))

    best = max(DELIMITERS, key=score)
    if score(best)[0]:
        return best
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def _find_header(source: BinaryIO, encoding: str) -> tuple[int, int, str]:
    """The header's byte offset, its row number and the file's delimiter.

    The header is the first line with something in it; blank lines before it still count
    as rows, as they do in a spreadsheet.
    """
    lines = Lines(source, encoding, 0)
    line_iter = iter(lines)
    header_offset, header_row, first_line = 0, 1, ""
    for line in line_iter:
        if line.strip().strip("".join(DELIMITERS)).strip():
            first_line = line
            break
        header_offset, header_row = lines.offset, header_row + 1
    if not first_line:
        raise ImportRefused("The file is empty.")
    if "\r" in first_line.rstrip("\r\n"):
        raise ImportRefused(OLD_MAC_LINE_ENDINGS)
    sample = first_line + "".join(line for _, line in zip(range(20), line_iter, strict=False))
    try:
        # The sniffer's patterns take time that grows faster than the sample does.
        delimiter = _choose_delimiter(first_line, sample[:SNIFF_CHARS])
    except csv.Error as exc:  # a header cell over the csv module's field limit, say
        raise ImportRefused(f"The file's first line cannot be read as CSV: {exc}.") from exc
    return header_offset, header_row, delimiter


def _read_header(
    source: BinaryIO, encoding: str, *, offset: int, delimiter: str
) -> tuple[list[str], int]:
    """The header's cells and the byte offset of the first data row after it."""
    lines = Lines(source, encoding, offset)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
        data_offset = lines.offset
        if all(is_blank(cells) for cells in reader):
            raise ImportRefused("The file has a header row but no contacts in it.")
    except csv.Error as exc:
        raise ImportRefused(f"The file cannot be read as CSV: {exc}.") from exc
    finally:
        source.seek(0)
    return header, data_offset


def inspect_csv(source: BinaryIO) -> Layout:
    """Read enough of the file to know its encoding, delimiter and columns; refuse a file
    that cannot be imported (not a CSV, empty, header only, no phone or email column)."""
    source.seek(0, io.SEEK_END)
    if source.tell() == 0:
        raise ImportRefused("The file is empty.")
    encoding = _detect_encoding(source)
    header_offset, header_row, delimiter = _find_header(source, encoding)
    header, data_offset = _read_header(source, encoding, offset=header_offset, delimiter=delimiter)
    fields, attributes, dropped = _map_header(header)
    if "phone" not in fields and "email" not in fields:
        found = ", ".join(f"“{h}”" for h in header if h) or "none"
        raise ImportRefused(
            "The file has no phone or email column, so nobody in it could be reached. Name a "
            f"column “phone” or “email” (columns found: {found})."
        )
    return Layout(
        encoding=encoding,
        delimiter=delimiter,
        header=tuple(header),
        fields=fields,
        attributes=attributes,
        data_offset=data_offset,
        first_data_row=header_row + 1,
        dropped=dropped,
    )
