"""One format for every moment a page shows (campaigns/dates.py, the `when` filter)."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from campaigns import dates

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def in_chicago():
    with timezone.override(CHICAGO):
        yield


def this_year(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(timezone.now().year, month, day, hour, minute, tzinfo=UTC)


def test_it_writes_the_time_weekday_day_and_month_in_the_current_zone(in_chicago):
    moment = this_year(12, 3, 15)  # 09:00 in Chicago (CST, UTC-6)
    assert dates.format_when(moment) == moment.astimezone(CHICAGO).strftime("09:00 %a %-d Dec")


def test_it_follows_daylight_saving_time(in_chicago):
    summer = this_year(7, 1, 15)  # 10:00 in Chicago (CDT, UTC-5)
    assert dates.format_when(summer).startswith("10:00 ")


def test_it_adds_the_year_only_when_it_is_not_this_one(in_chicago):
    last_year = timezone.now() - timedelta(days=800)
    assert dates.format_when(last_year).endswith(f" {last_year.astimezone(CHICAGO).year}")
    assert not dates.format_when(this_year(6, 1, 12)).endswith(str(timezone.now().year))


def test_utc_is_the_time_alone_on_the_same_day_else_the_whole_moment(in_chicago):
    assert dates.format_utc(this_year(12, 3, 15)) == "15:00 UTC"
    evening = this_year(12, 4, 2)  # 20:00 on the 3rd in Chicago, the 4th in UTC
    assert dates.format_utc(evening) == f"02:00 {evening:%a} 4 Dec UTC"


def test_the_when_filter_shows_local_time_with_the_iso_moment_and_utc(in_chicago):
    moment = this_year(12, 3, 15)
    html = Template("{% load herald %}{{ moment|when }} {% current_zone %}").render(
        Context({"moment": moment})
    )
    assert html == (
        f'<time datetime="{moment.isoformat()}" title="15:00 UTC">'
        f"{dates.format_when(moment)}</time> America/Chicago"
    )


def test_the_when_filter_shows_nothing_for_no_moment():
    assert Template("{% load herald %}{{ moment|when }}").render(Context({})) == ""
