"""Sending windows as pure functions, at explicit instants (SPEC section 4b)."""

from datetime import UTC, datetime, time

import pytest

from campaigns.contacts.zones import zone_key_for
from channels.windows import (
    ALL_DAYS,
    Window,
    describe,
    key_is_open,
    next_opening,
    split_keys,
)

TCPA = Window(frozenset(ALL_DAYS), time(8), time(21))
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Europe/London",
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_it_opens_exactly_the_zones_inside_8_to_21_local():
    # 13:30 UTC on a summer Tuesday: New York 09:30, Chicago 08:30, Denver 07:30, Phoenix
    # 06:30, Los Angeles 06:30, Honolulu 03:30, London 14:30.
    open_now, closed, never = split_keys(ZONES, TCPA, at("2027-06-15T13:30"))
    assert open_now == ["America/New_York", "America/Chicago", "Europe/London"]
    assert closed == [
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
        "Pacific/Honolulu",
    ]
    assert never == []


def test_advancing_the_clock_opens_the_next_zones_in_order():
    now = at("2027-06-15T13:30")
    order = sorted(
        (next_opening(zone, TCPA, now), zone) for zone in ZONES if not key_is_open(zone, TCPA, now)
    )
    assert order == [
        (at("2027-06-15T14:00"), "America/Denver"),
        (at("2027-06-15T15:00"), "America/Los_Angeles"),
        (at("2027-06-15T15:00"), "America/Phoenix"),  # no daylight saving: UTC-7 in summer
        (at("2027-06-15T18:00"), "Pacific/Honolulu"),
    ]
    # In winter Phoenix opens with Denver, an hour before Los Angeles.
    winter = at("2027-01-12T13:30")
    assert next_opening("America/Phoenix", TCPA, winter) == at("2027-01-12T15:00")
    assert next_opening("America/Denver", TCPA, winter) == at("2027-01-12T15:00")
    assert next_opening("America/Los_Angeles", TCPA, winter) == at("2027-01-12T16:00")


@pytest.mark.parametrize(
    ("instant", "is_open"),
    [
        ("2027-03-14T11:59", False),  # 07:59 EDT
        ("2027-03-14T12:00", True),  # 08:00 EDT, after the change
        ("2027-03-15T00:59", True),  # 20:59 EDT
        ("2027-03-15T01:00", False),  # 21:00 EDT
        ("2027-11-07T12:59", False),  # 07:59 EST, after falling back
        ("2027-11-07T13:00", True),  # 08:00 EST
        ("2027-11-08T01:59", True),  # 20:59 EST
        ("2027-11-08T02:00", False),  # 21:00 EST
    ],
)
def test_it_is_right_on_daylight_saving_days(instant, is_open):
    assert key_is_open("America/New_York", TCPA, at(instant)) is is_open


def test_the_next_opening_on_daylight_saving_days():
    assert next_opening("America/New_York", TCPA, at("2027-03-14T05:00")) == at("2027-03-14T12:00")
    assert next_opening("America/New_York", TCPA, at("2027-11-07T05:00")) == at("2027-11-07T13:00")


def test_a_window_starting_in_the_spring_gap_opens_just_after_it():
    night = Window(frozenset(ALL_DAYS), time(2, 30), time(5))
    # 02:30 does not exist on 2027-03-14 in New York; 03:30 EDT (07:30 UTC) is inside.
    assert next_opening("America/New_York", night, at("2027-03-14T05:00")) == at(
        "2027-03-14T07:30"
    )
    assert key_is_open("America/New_York", night, at("2027-03-14T07:30"))


def test_it_keeps_the_days_in_local_time():
    weekdays = Window(frozenset(range(5)), time(8), time(21))
    # Saturday 03:00 UTC is Friday 20:00 in Los Angeles: open, it is Friday there.
    assert key_is_open("America/Los_Angeles", weekdays, at("2027-06-19T03:00"))
    assert not key_is_open("Europe/London", weekdays, at("2027-06-19T09:00"))
    assert next_opening("Europe/London", weekdays, at("2027-06-19T09:00")) == at(
        "2027-06-21T07:00"
    )


def test_a_zone_key_from_the_contact_then_the_phone_then_the_default(settings):
    assert zone_key_for(timezone="Europe/London", phone="+13125550000") == "Europe/London"
    assert zone_key_for(timezone="", phone="+13125550000") == "America/Chicago"
    assert zone_key_for(timezone="", phone="") == ""
    settings.HERALD_DEFAULT_TIMEZONE = "Europe/London"
    assert key_is_open("", TCPA, at("2027-06-15T07:30"))  # 08:30 in London
    assert not key_is_open("", TCPA, at("2027-06-15T06:30"))


def test_a_number_spanning_zones_is_open_only_inside_the_window_in_all_of_them():
    key = "America/Los_Angeles|America/New_York"
    assert not key_is_open(key, TCPA, at("2027-06-15T13:00"))  # New York 09:00, LA 06:00
    assert key_is_open(key, TCPA, at("2027-06-15T15:00"))  # New York 11:00, LA 08:00
    assert key_is_open(key, TCPA, at("2027-06-16T00:59"))  # New York 20:59
    assert not key_is_open(key, TCPA, at("2027-06-16T01:00"))  # New York 21:00
    assert next_opening(key, TCPA, at("2027-06-15T13:00")) == at("2027-06-15T15:00")


def test_zones_with_no_common_hour_are_never_open():
    key = "Asia/Tokyo|Europe/London|Pacific/Honolulu"
    open_now, closed, never = split_keys(
        [key], Window(frozenset(ALL_DAYS), time(9), time(12)), at("2027-06-15T00:00")
    )
    assert (open_now, closed, never) == ([], [], [key])


def test_it_describes_a_window():
    assert describe(TCPA) == "08:00–21:00, every day"
    assert describe(Window(frozenset(range(5)), time(9), time(17))) == "09:00–17:00, Mon–Fri"
    assert describe(Window(frozenset(ALL_DAYS), None, None)) == "any time"
