"""The engine honours each contact's sending window (SPEC section 4b), with a moved clock."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns.contacts.zones import zone_key_for
from channels import dispatch, windows
from channels.models import Channel, Delivery
from channels.progress import load_live_channels
from tests.channels.test_dispatch import counters, ledger_counters
from tests.channels.test_windows import ZONES
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


_travels: list[time_machine.travel] = []


@pytest.fixture(autouse=True)
def _back_to_now():
    yield
    while _travels:
        _travels.pop().stop()


class Clock:
    """Time travel (time-machine): every clock the engine reads moves, the windows', the
    pacing's and the leases' alike, and stands still between moves."""

    def __init__(self, monkeypatch, start: datetime) -> None:
        travel = time_machine.travel(start, tick=False)
        self.coordinates = travel.start()
        _travels.append(travel)

    @property
    def now(self) -> datetime:
        return timezone.now()

    @now.setter
    def now(self, instant: datetime) -> None:
        self.coordinates.move_to(instant)

    def set(self, text: str) -> None:
        self.now = at(text)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def work(channel: Channel) -> dispatch.Continue:
    """Run slices until the chain ends or waits for more than a pacing pause."""
    for _ in range(200):
        generation = Channel.objects.get(pk=channel.pk).dispatch_generation
        then = dispatch.run_slice(channel_id=channel.pk, generation=generation)
        if then is None or then >= 1:
            return then
    raise AssertionError("the channel neither finished nor waited")


def reached(channel: Channel) -> dict[int, str]:
    return dict(
        Delivery.objects.filter(channel=channel).values_list("contact_id", "contact__zone_key")
    )


def started_in_window(contacts, *, start=time(8), end=time(21), **kwargs) -> Channel:
    """A running channel (SMS unless said) with a window, whose audience is `contacts`."""
    contact_list = ContactListFactory()
    contact_list.add_contacts([c.pk for c in contacts])
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list),
        window_start=start,
        window_end=end,
        **{"max_per_second": 1000, **kwargs},
    )
    channel.start()
    return channel


def spread_channel(per_zone: int = 3) -> tuple[Channel, dict]:
    by_zone = {zone: ContactFactory.create_batch(per_zone, timezone=zone) for zone in ZONES}
    channel = started_in_window([c for contacts in by_zone.values() for c in contacts])
    return channel, by_zone


def test_it_contacts_exactly_the_zones_inside_their_window_and_then_the_next(
    fast_engine, monkeypatch
):
    clock = Clock(monkeypatch, at("2027-06-15T13:30"))
    channel, by_zone = spread_channel()

    assert work(channel) == windows.WAIT_CAP_SECONDS
    assert set(reached(channel).values()) == {
        "America/New_York",
        "America/Chicago",
        "Europe/London",
    }
    channel.refresh_from_db()
    assert channel.status == Channel.Status.RUNNING
    assert channel.waiting_until == at("2027-06-15T14:00")
    assert channel.waiting_zone == "America/Denver"
    assert counters(channel) == ledger_counters(channel)

    for instant, zone in [
        ("2027-06-15T14:00", "America/Denver"),
        ("2027-06-15T15:00", "America/Phoenix"),
        ("2027-06-15T18:00", "Pacific/Honolulu"),
    ]:
        clock.set(instant)
        work(channel)
        assert zone in set(reached(channel).values())
    assert len(reached(channel)) == 3 * len(ZONES)
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED
    assert counters(channel) == ledger_counters(channel)


@pytest.mark.parametrize(
    ("day", "opening"),
    [("2027-03-14", "2027-03-14T12:00"), ("2027-11-07", "2027-11-07T13:00")],
)
def test_no_contact_is_reached_outside_the_window_on_daylight_saving_days(
    fast_engine, monkeypatch, day, opening
):
    """Clocks change at 02:00 in New York: the day's 08:00 is 12:00 UTC in March (EDT),
    13:00 UTC in November (EST). Stepping a quarter hour at a time from 03:00 UTC (late the
    evening before, local), the contacts are all reached at that instant, none before, none
    left behind."""
    clock = Clock(monkeypatch, at(f"{day}T03:00"))
    channel = started_in_window(ContactFactory.create_batch(4, timezone="America/New_York"))
    while not reached(channel):
        assert work(channel) == windows.WAIT_CAP_SECONDS or reached(channel)
        if not reached(channel):
            clock.now += timedelta(minutes=15)
    assert clock.now == at(opening)
    assert len(reached(channel)) == 4
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED


def test_zones_from_the_phone_number_and_the_default(fast_engine, monkeypatch, settings):
    settings.HERALD_DEFAULT_TIMEZONE = "Pacific/Honolulu"
    clock = Clock(monkeypatch, at("2027-06-15T13:30"))  # Chicago 08:30, LA 06:30, HNL 03:30
    chicago = ContactFactory(timezone="", phone="+13125550100")
    spans = ContactFactory(timezone="", phone="+13125550101", email="")
    no_zone = ContactFactory(timezone="", phone="", email="nobody@example.com")
    assert chicago.zone_key == "America/Chicago"
    assert no_zone.zone_key == ""
    # A number spanning zones: set as phonenumbers would for a toll-free number.
    type(spans).objects.filter(pk=spans.pk).update(zone_key="America/Chicago|America/Los_Angeles")
    channel = started_in_window([chicago, spans, no_zone])
    work(channel)
    assert set(reached(channel)) == {chicago.pk}
    clock.set("2027-06-15T15:00")  # LA 08:00
    work(channel)
    assert set(reached(channel)) == {chicago.pk, spans.pk}
    clock.set("2027-06-15T18:00")  # Honolulu 08:00: the default zone's contact is reached
    work(channel)
    assert set(reached(channel)) == {chicago.pk, spans.pk, no_zone.pk}


def test_a_contact_whose_zones_share_no_hour_is_skipped_with_the_reason(fast_engine, monkeypatch):
    Clock(monkeypatch, at("2027-06-15T00:00"))
    contact = ContactFactory()
    key = "Asia/Tokyo|Europe/London|Pacific/Honolulu"
    type(contact).objects.filter(pk=contact.pk).update(zone_key=key)
    channel = started_in_window([contact], start=time(9), end=time(12))
    assert work(channel) is None
    delivery = Delivery.objects.get(channel=channel)
    assert delivery.state == Delivery.State.SKIPPED
    assert delivery.error == dispatch.NEVER_IN_WINDOW
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED


def test_pause_and_resume_while_waiting_lose_nobody(fast_engine, monkeypatch):
    clock = Clock(monkeypatch, at("2027-06-15T13:30"))
    channel, _ = spread_channel(per_zone=2)
    work(channel)
    channel.pause()
    clock.set("2027-06-15T19:00")
    assert work(channel) is None  # paused: nothing claimed
    assert len(reached(channel)) == 6
    channel.resume()
    work(channel)
    assert len(reached(channel)) == 2 * len(ZONES)
    channel.refresh_from_db()
    assert channel.status == Channel.Status.COMPLETED


def test_the_card_says_when_the_next_contacts_open(fast_engine, monkeypatch):
    Clock(monkeypatch, at("2027-06-15T11:50"))  # Chicago 06:50: nobody open but London
    channel = started_in_window(
        ContactFactory.create_batch(2, timezone="America/Chicago"), start=time(9)
    )
    assert work(channel) == windows.WAIT_CAP_SECONDS
    [card] = load_live_channels(channel.campaign, now=at("2027-06-15T11:50"))
    assert card.window_wait == "next contacts at 09:00 America/Chicago (in 2 h 10 min)"
    [card] = load_live_channels(channel.campaign, now=at("2027-06-15T14:01"))
    assert card.window_wait == ""


def test_the_zone_key_follows_the_contact(db):
    contact = ContactFactory(timezone="", phone="+13125550100")
    assert contact.zone_key == "America/Chicago"
    contact.timezone = "Europe/London"
    contact.save(update_fields=["timezone"])
    contact.refresh_from_db()
    assert contact.zone_key == zone_key_for(timezone="Europe/London", phone="") == "Europe/London"
