"""The streamed CSV importer, on files made here: counts, report, encodings, refusals."""

import codecs
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.contacts import importing, merging
from campaigns.contacts.importing import ImportRefused, RowError, import_csv, inspect_csv
from campaigns.contacts.importing import importer as importer_module
from campaigns.contacts.importing import job as job_module
from campaigns.contacts.importing import writer as writer_module
from campaigns.models import Contact, ImportJob, Membership
from tests.factories import ContactFactory, ContactListFactory, ImportJobFactory, MembershipFactory

pytestmark = pytest.mark.django_db

HEADER = "First Name,Last Name,Mobile,E-mail,Time Zone,opted_out,City,Notes"
MESSY_ROWS = [
    "Ann,Lee,(202) 555-0101,ann@example.com,America/New_York,,Paris,vip",  # 2 imported
    "",  # 3 blank
    "Bob,,202.555.0102,BOB@Example.COM,,no,Rome,",  # 4 imported
    "Cara,,+1 202 555 0103,bad@,,,,",  # 5 bad email
    "Dan,,notaphone,dan@example.com,,,,",  # 6 bad phone
    "Eve,,2025550101,eve@example.com,,sms,Nice,",  # 7 same phone as row 2: merged
    ",,,,,,,",  # 8 blank
    "Fay,,,bob@example.com,,,,",  # 9 same email as row 4: merged
    "Gus,,+44 20 7946 0958,gus@example.co.uk,Europe/London,,,",  # 10 imported
    "Hal,,(202) 555-0199,,,,,",  # 11 already in the list: merged
    "Ivy,,,,,,Oslo,",  # 12 no address
    "Jo,,202-555-0104,jo@example.com,Mars/Base,,,",  # 13 bad time zone
    "Kim,,202 555 0105,kim@example.com,,maybe,,",  # 14 bad opt-out
    "Lou,,202-555-0177,lou@example.com,,,,",  # 15 a contact of another list: joins
]


def messy_csv(*, bom: bool = True, delimiter: str = ",", encoding: str = "utf-8") -> io.BytesIO:
    lines = [HEADER, *MESSY_ROWS]
    text = "\r\n".join(line.replace(",", delimiter) for line in lines) + "\r\n"
    data = text.encode(encoding)
    return io.BytesIO((codecs.BOM_UTF8 if bom else b"") + data)


@pytest.fixture
def contact_list():
    contact_list = ContactListFactory()
    MembershipFactory(
        contact_list=contact_list, contact=ContactFactory(name="Hal", phone="+12025550199")
    )
    ContactFactory(name="Lou elsewhere", phone="+12025550177", email="")
    return contact_list


EXPECTED_REPORT = [
    RowError(5, "E-mail", "“bad@” is not a valid email address."),
    RowError(6, "Mobile", "“notaphone” is not a phone number."),
    RowError(12, "Mobile / E-mail", "The row has no phone number or email address."),
    RowError(
        13, "Time Zone", "“Mars/Base” is not a time zone; use a name such as America/New_York."
    ),
    RowError(
        14,
        "opted_out",
        "“maybe” is not an opt-out; use yes, no, or the kinds: voice, sms, email.",
    ),
]


def assert_messy_import(result, contact_list):
    assert (result.read, result.imported, result.merged, result.rejected) == (12, 4, 3, 5)
    assert result.errors == EXPECTED_REPORT
    contact_list.refresh_from_db()
    assert contact_list.size == 5
    assert Membership.objects.filter(contact_list=contact_list).count() == 5
    ann = Contact.objects.get(phone="+12025550101")
    assert (ann.name, ann.email, ann.timezone) == (
        "Ann Lee",
        "ann@example.com",
        "America/New_York",
    )
    assert ann.attributes == {"city": "Paris", "notes": "vip"}
    assert ann.opted_out_sms and not ann.opted_out_voice  # Eve's row merged its opt-out in
    bob = Contact.objects.get(phone="+12025550102")
    assert bob.email == "bob@example.com"
    assert Contact.objects.get(phone="+442079460958").timezone == "Europe/London"
    lou = Contact.objects.get(phone="+12025550177")
    assert lou.name == "Lou elsewhere"  # nothing overwritten; the blank email filled in
    assert lou.email == "lou@example.com"
    assert not Contact.objects.filter(email__in=["eve@example.com", "dan@example.com"]).exists()


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


def test_it_falls_back_to_latin1_for_bytes_windows_1252_lacks():
    source = io.BytesIO("name,email\nA\x81b,ab@example.com\n".encode("latin-1"))
    assert inspect_csv(source).encoding == "latin-1"


def test_it_reads_a_utf8_file_without_bom():
    source = io.BytesIO("name,email\nZoë 山田,zoe@example.com\n".encode())
    assert inspect_csv(source).encoding == "utf-8"


def test_it_keeps_a_quoted_header_after_the_bom():
    source = io.BytesIO(codecs.BOM_UTF8 + b'"Email","Name"\nzoe@example.com,Zoe\n')
    assert inspect_csv(source).fields == {"email": 0, "name": 1}


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


# -- background jobs --------------------------------------------------------------------


def job_for(data: bytes, **kwargs) -> ImportJob:
    from django.core.files.base import ContentFile

    return ImportJobFactory(
        file=ContentFile(data, name="contacts.csv"), size_bytes=len(data), **kwargs
    )


def report_of(job: ImportJob) -> bytes:
    job.refresh_from_db()
    with job.error_report.open("rb") as report:
        return report.read(job.error_report_bytes)


def test_a_job_imports_in_chunks_and_resumes_where_it_stopped(monkeypatch, contact_list):
    monkeypatch.setattr(importer_module, "BATCH_ROWS", 2)
    monkeypatch.setattr(job_module, "CHUNK_ROWS", 4)
    job = job_for(messy_csv().getvalue(), contact_list=contact_list)
    chunks = 1
    while importing.run_import_chunk(job_id=job.pk):
        chunks += 1
    job.refresh_from_db()
    assert chunks == 4  # three of four rows, and one that finds the end of the file
    assert job.status == ImportJob.Status.COMPLETED
    assert (job.rows_read, job.rows_imported, job.rows_merged, job.rows_rejected) == (12, 4, 3, 5)
    assert job.offset_bytes == job.size_bytes
    lines = report_of(job).decode().splitlines()
    assert [line.split(",")[0] for line in lines] == ["5", "6", "12", "13", "14"]
    contact_list.refresh_from_db()
    assert contact_list.size == 5


def test_a_job_that_fails_half_way_keeps_and_reports_what_was_imported(monkeypatch):
    monkeypatch.setattr(importer_module, "BATCH_ROWS", 2)
    real_insert = merging._insert_memberships
    calls = []

    def failing_insert(list_id, contact_ids):
        calls.append(list_id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real_insert(list_id, contact_ids)

    monkeypatch.setattr(merging, "_insert_memberships", failing_insert)
    data = b"name,phone\nA,2025550101\nB,bad\nC,2025550103\nD,2025550104\nE,2025550105\n"
    job = job_for(data)
    assert importing.run_import_chunk(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.failure == "Row 4: the import stopped on an error (disk full)."
    assert (job.rows_read, job.rows_imported, job.rows_rejected) == (2, 1, 1)
    job.contact_list.refresh_from_db()
    assert job.contact_list.size == 1
    assert list(Contact.objects.values_list("name", flat=True)) == ["A"]
    assert report_of(job) == "3,phone,“bad” is not a phone number.\r\n".encode()


def test_a_job_for_a_refused_file_fails_with_the_reason():
    job = job_for(b"name,city\nAnn,Paris\n")
    assert importing.run_import_chunk(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "no phone or email column" in job.failure
    assert not Contact.objects.exists()


def test_a_finished_job_is_not_run_again():
    job = job_for(b"phone\n2025550101\n")
    importing.run_import_chunk(job_id=job.pk)
    assert importing.run_import_chunk(job_id=job.pk) is False
    job.contact_list.refresh_from_db()
    assert job.contact_list.size == 1


def test_a_job_whose_list_was_deleted_ends_quietly(monkeypatch):
    job = job_for(b"phone\n2025550101\n")
    real_write = writer_module.write_batch

    def delete_list_first(**kwargs):
        job.contact_list.delete()
        real_write(**kwargs)

    monkeypatch.setattr(writer_module, "write_batch", delete_list_first)
    assert importing.run_import_chunk(job_id=job.pk) is False
    assert not ImportJob.objects.exists()
    assert not Contact.objects.exists()


@pytest.mark.postgres
def test_refreshing_statistics_leaves_the_transaction_usable():
    writer_module.refresh_statistics()
    assert ContactListFactory().pk
