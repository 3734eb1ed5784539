"""Every path that makes a channel gives calls and texts 08:00–21:00 every day and email any
hour, unless told otherwise (SPEC 4b; `Channel.DEFAULT_WINDOWS`, `Channel.__init__`)."""

from datetime import UTC, datetime, time
from io import StringIO

import pytest
from django.core.management import call_command

from channels import windows
from channels.models import Channel
from tests.analytics.test_remarket import sms_form
from tests.conftest import url_for
from tests.factories import CampaignFactory, ChannelFactory, build_ledger, put_channel_in

pytestmark = pytest.mark.django_db

TCPA = (time(8), time(21))
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


def hours(channel: Channel) -> tuple:
    return (channel.window_start, channel.window_end)


@pytest.mark.parametrize(
    ("kind", "window"),
    [(Channel.Kind.AI_VOICE, TCPA), (Channel.Kind.SMS, TCPA), (Channel.Kind.EMAIL, (None, None))],
)
def test_a_new_channel_gets_its_kinds_hours(kind, window):
    channel = Channel(kind=kind)
    assert hours(channel) == window
    assert channel.window_days == EVERY_DAY


def test_hours_given_are_kept_even_any_hour():
    any_hour = Channel(kind=Channel.Kind.SMS, window_start=None, window_end=None)
    assert hours(any_hour) == (None, None)
    office = Channel(kind=Channel.Kind.AI_VOICE, window_start=time(9), window_end=time(17))
    assert hours(office) == (time(9), time(17))


def test_a_stored_channel_keeps_its_stored_hours():
    stored = ChannelFactory(kind=Channel.Kind.SMS)  # the factory's: any hour
    assert hours(Channel.objects.get(pk=stored.pk)) == (None, None)
    deferred = Channel.objects.only("pk", "kind").get(pk=stored.pk)
    assert hours(deferred) == (None, None)


def test_add_channel_saves_the_kinds_hours(manager):
    campaign = CampaignFactory()
    channel = campaign.add_channel(
        Channel(kind=Channel.Kind.AI_VOICE, name="Calls", voice_script="Hi {name}"), by=manager
    )
    channel.refresh_from_db()
    assert hours(channel) == TCPA
    assert channel.window_days == EVERY_DAY


def test_a_follow_up_gets_the_kinds_hours(manager_client):
    source = ChannelFactory(kind=Channel.Kind.AI_VOICE)
    build_ledger(source, [("done", "no_answer")] * 2)
    put_channel_in(source, Channel.Status.COMPLETED, audience_size=2)
    response = manager_client.post(
        url_for("channels:remarket")(source), sms_form(outcomes=["no_answer"])
    )
    assert response.status_code == 302
    follow_up = Channel.objects.get(source_channel=source)
    assert hours(follow_up) == TCPA


def test_seed_demo_gives_calls_and_texts_their_hours(monkeypatch):
    # Seeded at 03:00 in New York: outside every contact's window.
    monkeypatch.setattr(windows, "clock", lambda: datetime(2027, 6, 15, 7, tzinfo=UTC))
    call_command("seed_demo", stdout=StringIO())
    channels = Channel.objects.all()
    assert channels
    for channel in channels:
        assert hours(channel) == Channel.DEFAULT_WINDOWS[channel.kind], channel
        assert channel.window_days == EVERY_DAY
    # The seeded history ran to the end whatever the hour it was made at.
    completed = Channel.objects.filter(campaign__name="Autumn Check-in")
    assert {c.status for c in completed} == {Channel.Status.COMPLETED}
