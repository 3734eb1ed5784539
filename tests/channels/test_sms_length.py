"""How long a text is as a carrier counts it (channels/sms_length.py); the browser's counter
(static/js/sms-length.js) is checked against the same cases in tests/browser."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms_length import LIMITS, sms_length

# (text, characters, segments, encoding): the cases static/js/sms-length.js must agree on.
CASES = [
    ("", 0, 0, "GSM-7"),
    ("a" * 160, 160, 1, "GSM-7"),
    ("a" * 161, 161, 2, "GSM-7"),
    ("a" * 306, 306, 2, "GSM-7"),
    ("a" * 307, 307, 3, "GSM-7"),
    ("€" * 80, 160, 1, "GSM-7"),  # the extension set counts two
    ("{x}" + "a" * 155, 160, 1, "GSM-7"),
    # 306 septets fit two segments of 153, but the € is never split: 152 | € + 151 | 1.
    ("a" * 152 + "€" + "b" * 152, 306, 3, "GSM-7"),
    ("Ünicödé ñ à", 11, 1, "GSM-7"),  # these accents are in the basic set
    ("It’s" + "a" * 66, 70, 1, "UCS-2"),
    ("It’s" + "a" * 67, 71, 2, "UCS-2"),
    ("😀" * 35, 70, 1, "UCS-2"),  # outside the BMP: two units each
    ("😀" * 67, 134, 3, "UCS-2"),  # 33 | 33 (the 34th would split) | 1
    ("line\r\nbreak", 10, 1, "GSM-7"),  # CRLF from a browser is one LF on the phone
]


@pytest.mark.parametrize(("text", "characters", "segments", "encoding"), CASES)
def test_it_counts_like_a_carrier(text, characters, segments, encoding):
    length = sms_length(text)
    assert (length.characters, length.segments, length.encoding) == (
        characters,
        segments,
        encoding,
    )


def test_it_reads_as_the_form_shows_it():
    assert str(sms_length("a" * 143)) == "143 characters · 1 segment (GSM-7)"
    assert str(sms_length("a")) == "1 character · 1 segment (GSM-7)"
    assert str(sms_length("a" * 1601)) == "1,601 characters · 11 segments (GSM-7)"


def test_it_names_the_characters_that_force_ucs2():
    assert sms_length("plain text").warning == ""
    warning = sms_length("It’s “quoted” 😀").warning
    assert warning.startswith(
        "’ “ ” 😀 are not in the GSM-7 set: the whole message is sent as UCS-2"
    )
    assert "70 characters per segment instead of 160" in warning


@given(st.text(alphabet=st.sampled_from("ab €^{}’é😀\n"), max_size=800))
def test_the_segments_hold_the_characters(text):
    length = sms_length(text)
    single, per_segment = LIMITS[length.encoding]
    assert (length.characters <= single) == (length.segments <= 1)
    if length.segments > 1:
        # Enough segments, and never more than one spare (a character kept whole).
        assert length.characters <= length.segments * per_segment
        assert (length.segments - 1) * per_segment < length.characters + length.segments
    assert (length.encoding == "UCS-2") == bool(set(text) & set("’😀"))
