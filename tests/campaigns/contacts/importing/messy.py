"""The messy file: every way a row can be imported, merged or rejected, and its counts."""

import codecs
import io

from campaigns.contacts.importing import RowError
from campaigns.models import Contact, Membership

HEADER = "First Name,Last Name,Mobile,E-mail,Time Zone,opted_out,City,Notes"
MESSY_ROWS = [
    "Ann,Lee,(202) 555-0101,ann@example.com,America/New_York,,Paris,vip",  # 2 imported
    "",  # 3 blank
    "Bob,,202.555.0102,BOB@Example.COM,,no,Rome,",  # 4 imported
    "Cara,,+1 202 555 0103,bad@,,,,",  # 5 bad email
    "Dan,,notaphone,dan@example.com,,,,",  # 6 bad phone
    "Eve,,2025550101,eve@example.com,,sms,Nice,",  # 7 same phone as row 2: matched
    ",,,,,,,",  # 8 blank
    "Fay,,,bob@example.com,,,,",  # 9 same email as row 4: matched
    "Gus,,+44 20 7946 0958,gus@example.co.uk,Europe/London,,,",  # 10 imported
    "Hal,,(202) 555-0199,,,,,",  # 11 already in the list: merged
    "Ivy,,,,,,Oslo,",  # 12 no address
    "Jo,,202-555-0104,jo@example.com,Mars/Base,,,",  # 13 bad time zone
    "Kim,,202 555 0105,kim@example.com,,maybe,,",  # 14 bad opt-out
    "Lou,,202-555-0177,lou@example.com,,,,",  # 15 a contact of another list, named otherwise
]


def messy_csv(*, bom: bool = True, delimiter: str = ",", encoding: str = "utf-8") -> io.BytesIO:
    lines = [HEADER, *MESSY_ROWS]
    text = "\r\n".join(line.replace(",", delimiter) for line in lines) + "\r\n"
    data = text.encode(encoding)
    return io.BytesIO((codecs.BOM_UTF8 if bom else b"") + data)


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


EXPECTED_MATCHES = [
    RowError(
        7,
        "",
        "matched an existing contact: “Ann Lee” (this row: “Eve”); "
        "the stored contact was kept as it was",
    ),
    RowError(
        9,
        "",
        "matched an existing contact: “Bob” (this row: “Fay”); "
        "the stored contact was kept as it was",
    ),
    RowError(
        15,
        "",
        "matched an existing contact: “Lou elsewhere” (this row: “Lou”); "
        "the stored contact was kept as it was",
    ),
]


def assert_messy_import(result, contact_list):
    counts = (result.read, result.imported, result.merged, result.matched, result.rejected)
    assert counts == (12, 3, 1, 3, 5)
    assert result.errors == EXPECTED_REPORT
    assert result.matches == EXPECTED_MATCHES
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
