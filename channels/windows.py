"""Sending windows: which contacts a channel may reach now (SPEC section 4b).

A window is a set of weekdays and a daily start and end time, read in each contact's local
time. Contacts are grouped by their zone key (`campaigns.contacts.zones`): a channel's
audience has a few dozen keys at most, so the keys whose window is open are worked out here
in Python and the claim picks their contacts with an SQL `IN` — never one contact at a time.

Each key has its own cursor (`Channel.zone_cursors`: key -> the highest audience row id
claimed in it), so a contact outside its window is never walked past: it is claimed when
its key opens. The functions taking `now` are pure, so they are tested at explicit instants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.contacts.zones import zones_of

ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# How far ahead the next opening is looked for: a week covers every weekday once.
HORIZON_DAYS = 8
# A lane waiting for a window looks again at least this often (an opening computed now
# can move: a contact edited, the default zone changed); below the supervisor's stale-lane
# threshold, so a waiting lane is not taken for a dead one.
WAIT_CAP_SECONDS = 30.0


@dataclass(frozen=True)
class Window:
    days: frozenset[int]
    start: time | None
    end: time | None

    @property
    def any_time(self) -> bool:
        return self.start is None and self.end is None and self.days >= set(ALL_DAYS)

    def is_open_at(self, local: datetime) -> bool:
        if local.weekday() not in self.days:
            return False
        if self.start is None or self.end is None:
            return True
        return self.start <= local.time().replace(tzinfo=None) < self.end


def window_errors(window: Window) -> dict[str, str]:
    """An empty window would hold the channel forever: refuse it (field -> message)."""
    if not window.days or not window.days <= set(ALL_DAYS):
        return {"window_days": "Choose at least one day to send on."}
    if (window.start is None) != (window.end is None):
        field = "window_end" if window.end is None else "window_start"
        return {field: "Give both times, or neither to send at any hour."}
    if window.start is not None and window.start >= window.end:
        return {"window_end": "The window must close after it opens, the same day."}
    return {}


def clock() -> datetime:
    """The instant windows are judged at (a seam; the tests move every clock with time-machine)."""
    return timezone.now()


def default_zone() -> str:
    return settings.HERALD_DEFAULT_TIMEZONE


def key_is_open(key: str, window: Window, now: datetime) -> bool:
    """Whether every zone of the key is inside the window at the instant `now`."""
    return all(
        window.is_open_at(now.astimezone(ZoneInfo(zone)))
        for zone in zones_of(key, default=default_zone())
    )


def openings(zone: str, window: Window, now: datetime) -> list[datetime]:
    """The instants, from `now` on, at which the window opens in one zone (in UTC)."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    start = window.start or time(0)
    found = []
    for offset in range(HORIZON_DAYS):
        day: date = today + timedelta(days=offset)
        if day.weekday() not in window.days:
            continue
        # A start inside a daylight-saving gap does not exist that day: zoneinfo reads it
        # with the offset before the change, which lands just after the gap, as wanted.
        opening = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
        if opening > now:
            found.append(opening)
    return found


def next_opening(key: str, window: Window, now: datetime) -> datetime | None:
    """The first instant after `now` at which every zone of the key is inside the window.

    The intersection of several zones' windows opens when the last of them opens, so it is
    one of their opening instants. None when no such instant comes within a week: the zones
    of the key have no common hour.
    """
    zones = zones_of(key, default=default_zone())
    candidates = sorted({at for zone in zones for at in openings(zone, window, now)})
    return next((at for at in candidates if key_is_open(key, window, at)), None)


def split_keys(keys, window: Window, now: datetime) -> tuple[list[str], list[str], list[str]]:
    """(open now, closed now, never open): never-open keys get a skipped delivery."""
    open_now, closed, never = [], [], []
    for key in keys:
        if key_is_open(key, window, now):
            open_now.append(key)
        elif next_opening(key, window, now) is None:
            never.append(key)
        else:
            closed.append(key)
    return open_now, closed, never


def describe(window: Window) -> str:
    """“08:00–21:00, Mon–Fri” for the channel's card and form."""
    if window.any_time:
        return "any time"
    hours = (
        f"{window.start:%H:%M}–{window.end:%H:%M}"
        if window.start is not None and window.end is not None
        else "all day"
    )
    days = sorted(window.days)
    if days == list(ALL_DAYS):
        return f"{hours}, every day"
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{hours}, {DAY_NAMES[days[0]]}–{DAY_NAMES[days[-1]]}"
    return f"{hours}, " + ", ".join(DAY_NAMES[day] for day in days)


# -- the claim's side: which audience rows, per zone key ------------------------------------


def zone_conditions(cursors: dict[str, int]) -> models.Q:
    condition = models.Q(pk__in=[])
    for key, cursor in cursors.items():
        condition |= models.Q(contact__zone_key=key, id__gt=cursor)
    return condition


def audience_zone_keys(rows: models.QuerySet) -> list[str]:
    """The distinct zone keys of an audience: one grouped query when a run starts."""
    return sorted(rows.values_list("contact__zone_key", flat=True).distinct().order_by())


def advanced_cursors(cursors: dict[str, int], rows: list[dict]) -> dict[str, int]:
    """The cursors after claiming `rows` (taken in id order, so none of a key is passed)."""
    moved = dict(cursors)
    for row in rows:
        key = row["contact__zone_key"]
        moved[key] = max(moved.get(key, 0), row["id"])
    return moved


@dataclass
class Picked:
    """What a claim may take now: audience rows, and the channel fields that change."""

    rows: list[dict]
    changes: dict
    never: frozenset[str] = frozenset()
    exhausted: bool = False
    # When every remaining contact is outside its window: seconds until the next opening.
    wait: float | None = None


def pick(channel, audience: models.QuerySet, *, columns, now: datetime, limit: int) -> Picked:
    """Audience rows (id order) whose zone key is inside the window now, up to `limit`."""
    window = channel.window
    changes: dict = {}
    keys = channel.audience_zones
    if keys is None:
        keys = changes["audience_zones"] = audience_zone_keys(audience)
    open_now, closed, never = split_keys(keys, window, now)
    cursors = channel.zone_cursors
    claimable = {key: cursors.get(key, 0) for key in open_now + never}
    rows = []
    if claimable:
        rows = list(
            audience.filter(zone_conditions(claimable))
            .order_by("id")
            .values("id", "contact_id", "contact__zone_key", *columns)[:limit]
        )
    if rows:
        changes.update(
            zone_cursors=advanced_cursors(cursors, rows), waiting_until=None, waiting_zone=""
        )
        return Picked(rows, changes, never=frozenset(never))
    waiting = [
        key
        for key in closed
        if audience.filter(zone_conditions({key: cursors.get(key, 0)})).exists()
    ]
    if not waiting:
        return Picked([], changes, exhausted=True)
    at, key = min((next_opening(key, window, now), key) for key in waiting)
    changes.update(waiting_until=at, waiting_zone=opening_zone(key, window, at))
    return Picked([], changes, wait=min((at - now).total_seconds(), WAIT_CAP_SECONDS))


def opening_zone(key: str, window: Window, at: datetime) -> str:
    """The zone of the key whose window opens at `at` (the last of them to open)."""
    zones = zones_of(key, default=default_zone())
    start = window.start or time(0)
    return next(
        (zone for zone in zones if at.astimezone(ZoneInfo(zone)).time() == start), zones[0]
    )


def waiting_text(channel, *, now: datetime) -> str:
    """“next contacts at 09:00 America/Chicago (in 2 h 10 min)” while a run waits, or ""."""
    if channel.waiting_until is None or channel.waiting_until <= now or not channel.waiting_zone:
        return ""
    local = channel.waiting_until.astimezone(ZoneInfo(channel.waiting_zone))
    minutes = math.ceil((channel.waiting_until - now).total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    wait = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"next contacts at {local:%H:%M} {channel.waiting_zone} (in {wait})"
