"""The streamed CSV importer, on files made here: counts, report, encodings, refusals."""

import codecs
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.contacts.importing import ImportRefused, import_csv, inspect_csv
from campaigns.contacts.zones import zone_key_for
from campaigns.models import Contact, Membership
from tests.factories import ContactListFactory

from .messy import assert_messy_import, messy_csv

pytestmark = pytest.mark.django_db


def test_it_imports_the_messy_file_with_exact_counts_and_report(contact_list):
    result = import_csv(contact_list=contact_list, source=messy_csv(), default_region="US")
    assert result.layout.encoding == "utf-8-sig"
    assert_messy_import(result, contact_list)


def test_it_gives_the_same_result_in_batches_of_two(contact_list):
    result = import_csv(
        contact_list=contact_list, source=messy_csv(), default_region="US", batch_rows=2
    )
    assert_messy_import(result, contact_list)


def test_it_reads_a_semicolon_file(contact_list):
    source = messy_csv(bom=False, delimiter=";")
    assert inspect_csv(source).delimiter == ";"
    result = import_csv(contact_list=contact_list, source=source, default_region="US")
    assert_messy_import(result, contact_list)


def test_it_reads_a_latin1_file():
    contact_list = ContactListFactory()
    data = "name;phone;email;city\nJosé Müller;2025550111;jose@example.com;Zürich\n"
    source = io.BytesIO(data.encode("latin-1"))
    layout = inspect_csv(source)
    assert (layout.encoding, layout.delimiter) == ("cp1252", ";")
    result = import_csv(contact_list=contact_list, source=source, default_region="US")
    assert (result.read, result.imported) == (1, 1)
    contact = Contact.objects.get(phone="+12025550111")
    assert (contact.name, contact.attributes) == ("José Müller", {"city": "Zürich"})


def test_it_maps_opt_out_columns_and_values():
    contact_list = ContactListFactory()
    data = (
        "email,opted_out,opted_out_voice\n"
        "a@example.com,yes,\n"
        'b@example.com,"sms, email",no\n'
        "c@example.com,,yes\n"
    )
    import_csv(contact_list=contact_list, source=io.BytesIO(data.encode()), default_region="US")
    flags = {
        c.email: (c.opted_out_voice, c.opted_out_sms, c.opted_out_email)
        for c in Contact.objects.all()
    }
    assert flags == {
        "a@example.com": (True, True, True),
        "b@example.com": (False, True, True),
        "c@example.com": (True, False, False),
    }


def test_it_undoes_the_exports_neutralisation():
    contact_list = ContactListFactory()
    data = "name,phone\n'=Ann,'+12025550101\n"
    import_csv(contact_list=contact_list, source=io.BytesIO(data.encode()), default_region="US")
    assert Contact.objects.get().name == "=Ann"


def test_it_uses_the_default_region():
    contact_list = ContactListFactory()
    source = io.BytesIO(b"phone\n020 7946 0958\n")
    import_csv(contact_list=contact_list, source=source, default_region="GB")
    assert Contact.objects.get().phone == "+442079460958"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n  \n", "The file is empty."),
        (codecs.BOM_UTF8, "The file is empty."),
        (b"name,phone,email\n", "header row but no contacts"),
        (b"name,phone,email\n\n,,\n", "header row but no contacts"),
        (b"name,city\nAnn,Paris\n", "no phone or email column"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "looks like an image"),
        (b"PK\x03\x04\x14\0\x06\0", "Excel workbook"),
        (b"name,phone\nAnn,\0\0\x01\x02\n", "binary data"),
        ("name,phone\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_it_refuses_a_file_it_cannot_import(data, message):
    contact_list = ContactListFactory()
    before = Contact.objects.count()
    with pytest.raises(ImportRefused, match=message):
        import_csv(contact_list=contact_list, source=io.BytesIO(data), default_region="US")
    assert Contact.objects.count() == before
    contact_list.refresh_from_db()
    assert contact_list.size == 0
    assert not Membership.objects.exists()


def test_it_looks_contacts_up_per_batch_not_per_row():
    def queries_for(rows: int, *, first: int) -> int:
        contact_list = ContactListFactory()
        lines = "\n".join(f"P{i},+1202555{i:04d}" for i in range(first, first + rows))
        source = io.BytesIO(f"name,phone\n{lines}\n".encode())
        with CaptureQueriesContext(connection) as captured:
            import_csv(contact_list=contact_list, source=source, default_region="US")
        return len(captured)

    assert queries_for(10, first=0) == queries_for(100, first=1000)


def test_it_keeps_the_size_equal_to_the_memberships_over_two_imports():
    contact_list = ContactListFactory()
    first = io.BytesIO(b"phone\n2025550101\n2025550102\n")
    second = io.BytesIO(b"phone\n2025550102\n2025550103\n")
    import_csv(contact_list=contact_list, source=first, default_region="US")
    result = import_csv(contact_list=contact_list, source=second, default_region="US")
    assert (result.imported, result.merged) == (1, 1)
    assert contact_list.size == 3 == contact_list.memberships.count()
    assert Contact.objects.count() == 3


def test_it_stores_no_zone_when_none_is_given_and_derives_the_zone_key():
    contact_list = ContactListFactory()
    source = io.BytesIO(
        b"name,phone,email,timezone\n"
        b"Chi,+13125550100,,\n"
        b"Lon,+13125550101,,europe/london\n"
        b"Mail,,mail@example.com,\n"
        b"Bad,+13125550102,,Mars/Olympus\n"
    )
    result = import_csv(contact_list=contact_list, source=source, default_region="US")
    stored = {c.name: (c.timezone, c.zone_key) for c in Contact.objects.all()}
    assert stored == {
        "Chi": ("", "America/Chicago"),
        "Lon": ("Europe/London", "Europe/London"),
        "Mail": ("", ""),
    }
    assert [error.column for error in result.errors] == ["timezone"]


def test_it_gives_each_phone_the_zone_key_the_rule_gives_it():
    # The importer takes the key from the row's phone check (one number type per row), not
    # from `zone_key_for`: both must agree, for geographic numbers, mobiles, numbers spanning
    # zones and non-geographic ones (toll-free).
    phones = [
        "+13125550100",  # Chicago
        "(212) 555-0100",  # New York, written nationally
        "+447911123456",  # a UK mobile
        "+61 2 9374 4000",  # Sydney
        "+7 495 123 4567",  # Moscow
        "+1 800 555 0199",  # toll-free: no geography
        "+39 06 6982 1234",  # Rome, with the Italian leading zero
    ]
    lines = [f"P{i},{phone}," for i, phone in enumerate(phones)]
    source = io.BytesIO(("name,phone,email\n" + "\n".join(lines) + "\n").encode())
    contact_list = ContactListFactory()
    result = import_csv(contact_list=contact_list, source=source, default_region="US")
    assert result.imported == len(phones)
    stored = list(Contact.objects.order_by("pk"))
    assert [c.zone_key for c in stored] == [
        zone_key_for(timezone="", phone=c.phone) for c in stored
    ]
    assert {c.zone_key for c in stored} >= {"America/Chicago", "America/New_York"}
