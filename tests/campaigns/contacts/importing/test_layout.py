"""Learning a file's layout: encoding, delimiter, header; stored and read back."""

import codecs
import io

from campaigns.contacts.importing import Layout, inspect_csv

from .messy import messy_csv


def test_it_finds_a_semicolon_delimiter():
    assert inspect_csv(messy_csv(bom=False, delimiter=";")).delimiter == ";"


def test_it_falls_back_to_latin1_for_bytes_windows_1252_lacks():
    source = io.BytesIO("name,email\nA\x81b,ab@example.com\n".encode("latin-1"))
    assert inspect_csv(source).encoding == "latin-1"


def test_it_reads_a_utf8_file_without_bom():
    source = io.BytesIO("name,email\nZoë 山田,zoe@example.com\n".encode())
    assert inspect_csv(source).encoding == "utf-8"


def test_it_keeps_a_quoted_header_after_the_bom():
    source = io.BytesIO(codecs.BOM_UTF8 + b'"Email","Name"\nzoe@example.com,Zoe\n')
    assert inspect_csv(source).fields == {"email": 0, "name": 1}


def test_it_gives_back_the_layout_it_stored():
    layout = inspect_csv(messy_csv())

    assert Layout.from_json(layout.to_json()) == layout
