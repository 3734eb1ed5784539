"""How Herald writes a moment: one format on every page (issue #12), in the manager's zone.

“09:00 Wed 3 Dec”, with the year when it is not this year's, in the zone activated for the
request (campaigns.preferences.middleware); the same moment in UTC when a page shows both.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from django.utils import dateformat, timezone

FORMAT = "H:i D j M"


def format_when(value: datetime, *, zone: tzinfo | None = None) -> str:
    """The moment in `zone` (the current zone by default): “09:00 Wed 3 Dec”."""
    local = timezone.localtime(value, zone)
    text = dateformat.format(local, FORMAT)
    if local.year != timezone.localtime(timezone.now(), zone).year:
        text += f" {local.year}"
    return text


def format_utc(value: datetime) -> str:
    """The moment in UTC: “15:00 UTC”, with its date when that is another day than locally."""
    utc = value.astimezone(UTC)
    if utc.date() == timezone.localtime(value).date():
        return f"{utc:%H:%M} UTC"
    return f"{format_when(value, zone=UTC)} UTC"
