"""How long a text message is, as a carrier counts it: characters, segments, encoding.

A message of GSM-7 characters only (3GPP TS 23.038: the basic set, and the extension set
whose characters take two septets) fits 160 in one segment, 153 per segment when split;
one other character makes the whole message UCS-2: 70 in one, 67 per segment, and a
character outside the Basic Multilingual Plane (most emoji) takes two. A character is
never split across segments. static/js/sms-length.js counts the same way while one types.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = GSM7_BASIC | GSM7_EXTENSION
#: (one segment, per segment of a split message), in units of the encoding.
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}
#: How many of the characters that force UCS-2 a warning names.
SHOWN_NON_GSM = 5


@dataclass(frozen=True)
class SmsLength:
    characters: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    non_gsm: tuple[str, ...]  # the first distinct characters that made it UCS-2

    def __str__(self) -> str:
        """“143 characters · 1 segment (GSM-7)”."""
        characters = "character" if self.characters == 1 else "characters"
        segments = "segment" if self.segments == 1 else "segments"
        return f"{self.characters:,} {characters} · {self.segments} {segments} ({self.encoding})"

    @property
    def warning(self) -> str:
        """Why the message is UCS-2, or ""."""
        if not self.non_gsm:
            return ""
        shown = " ".join(self.non_gsm)
        return (
            f"{shown} {'is' if len(self.non_gsm) == 1 else 'are'} not in the GSM-7 set: "
            f"the whole message is sent as UCS-2, {LIMITS['UCS-2'][0]} characters per "
            f"segment instead of {LIMITS['GSM-7'][0]}."
        )


def as_sent(text: str) -> str:
    """A browser posts a textarea's line breaks as CRLF; a text sends (and counts) LF."""
    return (text or "").replace("\r\n", "\n")


def sms_length(text: str) -> SmsLength:
    text = as_sent(text)
    non_gsm = list(dict.fromkeys(c for c in text if c not in GSM7))
    if non_gsm:
        encoding = "UCS-2"
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]
    else:
        encoding = "GSM-7"
        units = [2 if c in GSM7_EXTENSION else 1 for c in text]
    single, per_segment = LIMITS[encoding]
    total = sum(units)
    if total <= single:
        segments = 1 if total else 0
    else:
        segments, used = 1, 0
        for unit in units:
            if used + unit > per_segment:
                segments, used = segments + 1, 0
            used += unit
    return SmsLength(total, segments, encoding, tuple(non_gsm[:SHOWN_NON_GSM]))
