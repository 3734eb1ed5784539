"""A delivery as a person reads it: what was sent, and what the provider reported back.

`delivery.details` holds what the provider told (a call's duration, summary, transcript
and recording link). Providers name these differently; this reads them leniently, and
keeps only links a browser may safely follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.models import Contact

from .content import content_for_contact
from .models import Channel

CONTENT_LABELS = {
    "script": "Call script",
    "caller_id": "Caller ID",
    "text": "Text",
    "sender": "Sender",
    "subject": "Subject",
    "body": "Body",
    "from": "From",
}


def sent_content(channel: Channel, contact: Contact) -> list[tuple[str, str]]:
    """(label, text) of the channel's content for the contact, empty parts left out."""
    content = content_for_contact(channel, contact)
    return [(CONTENT_LABELS.get(key, key), value) for key, value in content.items() if value]


@dataclass(frozen=True)
class CallDetails:
    duration_seconds: int | None = None
    ended_reason: str = ""
    summary: str = ""
    transcript: str = ""
    recording_url: str = ""

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)

    @property
    def duration(self) -> str:
        if self.duration_seconds is None:
            return ""
        minutes, seconds = divmod(self.duration_seconds, 60)
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def seconds(value) -> int | None:
    try:
        return max(0, round(float(value)))
    except (TypeError, ValueError):
        return None


def transcript_text(value) -> str:
    """A transcript as text: a string as is, a list of turns as `role: words` lines."""
    if isinstance(value, list):
        lines = []
        for turn in value:
            if isinstance(turn, dict):
                words = text(turn.get("message") or turn.get("content") or turn.get("text"))
                lines.append(f"{text(turn.get('role')) or '?'}: {words}")
            else:
                lines.append(str(turn))
        return "\n".join(lines)
    return text(value)


def safe_link(value) -> str:
    """Only http(s) links: a `javascript:` URL from a payload must never become a link."""
    url = text(value)
    return url if url.lower().startswith(("https://", "http://")) else ""


def call_details(details: dict | None) -> CallDetails:
    details = details if isinstance(details, dict) else {}
    analysis = details.get("analysis") if isinstance(details.get("analysis"), dict) else {}
    return CallDetails(
        duration_seconds=seconds(details.get("duration_seconds", details.get("duration"))),
        ended_reason=text(details.get("ended_reason") or details.get("endedReason")),
        summary=text(details.get("summary") or analysis.get("summary")),
        transcript=transcript_text(details.get("transcript")),
        recording_url=safe_link(details.get("recording_url") or details.get("recordingUrl")),
    )
