"""`python manage.py import_contacts LIST FILE`."""

import csv

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Contact, ContactList
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db

CSV = (
    "name;mobile;email\n"
    "Ann;020 7946 0958;ann@example.com\n"
    "Bob;nope;bob@example.com\n"
    "Ann2;+44 20 7946 0958;\n"
)


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def run(*args) -> tuple[str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("import_contacts", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_creates_the_list_and_imports(csv_file):
    out, err = run("Donors", csv_file, "--region", "GB")
    contact_list = ContactList.objects.get(name="Donors")
    assert contact_list.size == 1
    assert Contact.objects.get().phone == "+442079460958"
    assert "Created list “Donors”" in out
    assert "semicolon-separated" in out
    assert "3 rows read, 1 imported, 0 merged, 1 matched an existing contact" in out
    assert "(kept as stored), 1 rejected" in out
    assert "row 3, mobile: “nope” is not a phone number." in err


def test_it_imports_into_an_existing_list(csv_file):
    contact_list = ContactListFactory(name="Donors", size=2)
    out, _ = run("Donors", csv_file, "--region", "gb")
    contact_list.refresh_from_db()
    assert contact_list.size == 3
    assert "Importing into list “Donors”" in out


def test_it_writes_the_report(csv_file, tmp_path):
    report = tmp_path / "report.csv"
    run("Donors", csv_file, "--region", "GB", "--report", report)
    with open(report, newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [
            ["row", "column", "reason"],
            ["3", "mobile", "“nope” is not a phone number."],
            [
                "4",
                "",
                "matched an existing contact: “Ann” (this row: “Ann2”); "
                "the stored contact was kept as it was",
            ],
        ]


def test_it_refuses_a_file_without_an_address_column_and_creates_nothing(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,city\nAnn,Paris\n")
    with pytest.raises(CommandError, match="no phone or email column.*Nothing was imported"):
        run("Donors", path)
    assert not ContactList.objects.exists()
    assert not Contact.objects.exists()


def test_it_refuses_a_binary_file(tmp_path):
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(100))
    with pytest.raises(CommandError, match="Excel workbook"):
        run("Donors", path)
    assert not ContactList.objects.exists()


def test_it_refuses_an_unknown_region(csv_file):
    with pytest.raises(CommandError, match="not a region code"):
        run("Donors", csv_file, "--region", "XX")


def test_it_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="is not a file"):
        run("Donors", tmp_path / "missing.csv")


def test_it_says_which_columns_it_leaves_out(tmp_path):
    path = tmp_path / "two-phones.csv"
    path.write_text("name,phone,mobile\nAnn,2025550101,2025550102\n", encoding="utf-8")
    out, _ = run("Donors", path)
    assert "Left out: “mobile”: another phone column; only “phone” is read." in out
