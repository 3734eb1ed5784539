"""Learning a file's layout: encoding, delimiter, header; stored and read back."""

import codecs
import io

import pytest

from campaigns.contacts.importing import ImportRefused, Layout, inspect_csv

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


def test_it_reads_the_first_of_two_columns_for_a_field_and_says_it_left_the_other_out():
    source = io.BytesIO(b"phone,email,Phone,mobile\n2025550101,a@example.com,2025550102,\n")
    layout = inspect_csv(source)
    assert layout.fields == {"phone": 0, "email": 1}
    assert layout.dropped == ("“Phone”, “mobile”: another phone column; only “phone” is read.",)


def test_it_caps_the_attribute_columns_and_says_so(settings):
    settings.HERALD_MAX_ATTRIBUTES = 100
    header = ",".join(["email", *(f"col{i}" for i in range(9_999))])
    layout = inspect_csv(io.BytesIO(f"{header}\na@example.com\n".encode()))
    assert len(layout.attributes) == 100
    assert layout.attributes[-1] == (100, "col99")
    assert layout.dropped == (
        "9,899 more columns (“col100”, “col101”, “col102”, “col103”, “col104” and 9,894 more):"
        " a contact keeps at most 100 attributes.",
    )


def test_it_says_it_left_out_a_second_attribute_of_one_name_and_untitled_columns():
    layout = inspect_csv(io.BytesIO(b"email,City,city,,\na@example.com,Paris,Lyon,x,y\n"))
    assert layout.attributes == ((1, "city"),)
    assert layout.dropped == (
        "“city”: another “city” column; only “City” is read.",
        "2 columns without a title in the header.",
    )


def test_a_huge_first_line_is_refused_not_an_error():
    source = io.BytesIO(b"phone" + b"x" * 5_000_000 + b"\n2025550101\n")
    with pytest.raises(ImportRefused, match="first line cannot be read as CSV"):
        inspect_csv(source)
