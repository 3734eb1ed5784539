"""Every (channel status, action) pair of SPEC section 2, through the model methods."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import ActivityEvent, Campaign
from channels.models import AlreadyDone, Channel, InvalidTransition
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactFactory,
    ContactListFactory,
    put_channel_in,
)

pytestmark = pytest.mark.django_db

READY, RUNNING, PAUSED, COMPLETED, STOPPED = (
    "ready",
    "running",
    "paused",
    "completed",
    "stopped",
)
STATUSES = [READY, RUNNING, PAUSED, COMPLETED, STOPPED]
ACTIONS = ["start", "pause", "resume", "stop", "complete"]

# SPEC section 2, written out again here so the test does not trust the model's own table.
ALLOWED = {
    (READY, "start"): RUNNING,
    (RUNNING, "pause"): PAUSED,
    (PAUSED, "resume"): RUNNING,
    (RUNNING, "stop"): STOPPED,
    (PAUSED, "stop"): STOPPED,
    (RUNNING, "complete"): COMPLETED,
}
REFUSED = [(s, a) for s in STATUSES for a in ACTIONS if (s, a) not in ALLOWED]
# The campaign of a one-channel campaign, by the status its channel reaches (SPEC section 3).
CAMPAIGN_STATUS = {
    RUNNING: "active",
    PAUSED: "active",
    COMPLETED: "completed",
    STOPPED: "completed",
}
# Refusals whose message SPEC section 2 spells out ("This channel is already paused.").
ALREADY = {
    (RUNNING, "start"): "This channel is already running.",
    (RUNNING, "resume"): "This channel is already running.",
    (PAUSED, "pause"): "This channel is already paused.",
    (STOPPED, "stop"): "This channel is already stopped.",
    (COMPLETED, "complete"): "This channel is already completed.",
}

EARLIER = timezone.now() - timedelta(hours=1)


def channel_in(status: str) -> Channel:
    """A channel of a one-channel campaign, in `status`, with some progress to keep intact."""
    channel = ChannelFactory(campaign__contact_list=ContactListFactory(size=3))
    implied = {
        READY: {},
        RUNNING: {"started_at": EARLIER},
        PAUSED: {"started_at": EARLIER, "paused_at": EARLIER},
        COMPLETED: {"started_at": EARLIER, "finished_at": EARLIER},
        STOPPED: {"started_at": EARLIER, "finished_at": EARLIER},
    }[status]
    progress = {} if status == READY else {"audience_size": 3, "audience_cutoff": 10**9}
    put_channel_in(
        channel,
        status,
        processed=2 if status != READY else 0,
        skipped=1 if status != READY else 0,
        outcome_counts={"delivered": 1} if status != READY else {},
        **implied,
        **progress,
    )
    # A stale stored campaign status, so that only a real recomputation can correct it.
    Campaign.objects.filter(pk=channel.campaign_id).update(status=Campaign.Status.DRAFT)
    return channel


def snapshot(obj) -> dict:
    obj.refresh_from_db()
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_it_reaches_the_status_the_table_gives(status, action, manager):
    channel = channel_in(status)

    getattr(channel, action)(by=manager)

    assert channel.status == ALLOWED[status, action]
    channel.refresh_from_db()
    assert channel.status == ALLOWED[status, action]


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_it_writes_exactly_one_activity_event(status, action, manager):
    channel = channel_in(status)

    getattr(channel, action)(by=manager)

    event = ActivityEvent.objects.get()
    assert event.actor == manager
    assert event.action == action
    assert event.channel_id == channel.pk
    assert event.campaign_id == channel.campaign_id
    assert event.from_status == status
    assert event.to_status == ALLOWED[status, action]


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_it_recomputes_the_stored_campaign_status(status, action, manager):
    channel = channel_in(status)

    getattr(channel, action)(by=manager)

    campaign = Campaign.objects.get(pk=channel.campaign_id)
    assert campaign.status == CAMPAIGN_STATUS[ALLOWED[status, action]]


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_it_keeps_the_progress_counters(status, action, manager):
    channel = channel_in(status)
    before = snapshot(channel)

    getattr(channel, action)(by=manager)

    after = snapshot(channel)
    for field in ("processed", "in_flight", "skipped", "interrupted", "converted"):
        assert after[field] == before[field]
    assert after["outcome_counts"] == before["outcome_counts"]


def test_it_sets_started_at_on_start(manager):
    channel = channel_in(READY)
    before = timezone.now()

    channel.start(by=manager)

    channel.refresh_from_db()
    assert channel.started_at >= before
    assert channel.paused_at is None
    assert channel.finished_at is None


def test_it_sets_paused_at_on_pause(manager):
    channel = channel_in(RUNNING)
    before = timezone.now()

    channel.pause(by=manager)

    channel.refresh_from_db()
    assert channel.paused_at >= before
    assert channel.started_at == EARLIER
    assert channel.finished_at is None


def test_it_clears_paused_at_on_resume(manager):
    channel = channel_in(PAUSED)

    channel.resume(by=manager)

    channel.refresh_from_db()
    assert channel.paused_at is None
    assert channel.started_at == EARLIER
    assert channel.finished_at is None


@pytest.mark.parametrize("status", [RUNNING, PAUSED])
def test_it_sets_finished_at_on_stop(status, manager):
    channel = channel_in(status)
    before = timezone.now()

    channel.stop(by=manager)

    channel.refresh_from_db()
    assert channel.finished_at >= before
    assert channel.started_at == EARLIER


def test_it_sets_finished_at_on_complete():
    channel = channel_in(RUNNING)
    before = timezone.now()

    channel.complete()

    channel.refresh_from_db()
    assert channel.finished_at >= before
    assert channel.started_at == EARLIER


def test_it_records_the_engine_as_actor_of_complete():
    channel = channel_in(RUNNING)

    channel.complete()

    event = ActivityEvent.objects.get()
    assert event.actor is None
    assert event.actor_name == "Herald"


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_it_refuses_with_a_human_message(status, action, manager):
    channel = channel_in(status)

    with pytest.raises(InvalidTransition) as refusal:
        getattr(channel, action)(by=manager)

    message = str(refusal.value)
    # The kind of refusal is in its type: a no-op is AlreadyDone, the impossible is not.
    assert isinstance(refusal.value, AlreadyDone) == ((status, action) in ALREADY)
    if (status, action) in ALREADY:
        assert message == ALREADY[status, action]
    assert message[0].isupper()
    assert message.endswith(".")
    assert "channel" in message
    assert "_" not in message


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_it_changes_nothing_when_refused(status, action, manager):
    channel = channel_in(status)
    channel_before = snapshot(channel)
    campaign_before = snapshot(channel.campaign)

    with pytest.raises(InvalidTransition):
        getattr(channel, action)(by=manager)

    assert snapshot(channel) == channel_before
    assert snapshot(channel.campaign) == campaign_before
    assert not ActivityEvent.objects.exists()


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_it_leaves_the_instance_showing_the_stored_status_when_refused(status, action, manager):
    channel = channel_in(status)

    with pytest.raises(InvalidTransition):
        getattr(channel, action)(by=manager)

    assert channel.status == status


def test_it_fixes_the_audience_at_start(manager):
    contact_list = ContactListFactory(size=3)
    channel = ChannelFactory(campaign__contact_list=contact_list)
    highest = contact_list.memberships.order_by("-id").values_list("id", flat=True).first()

    channel.start(by=manager)

    channel.refresh_from_db()
    assert channel.audience_cutoff == highest
    assert channel.audience_size == 3


def test_it_does_not_count_contacts_that_join_after_start(manager):
    contact_list = ContactListFactory(size=3)
    channel = ChannelFactory(campaign__contact_list=contact_list)
    channel.start(by=manager)
    first_three = set(contact_list.contacts.values_list("pk", flat=True))

    latecomers = ContactFactory.create_batch(2)
    contact_list.add_contacts([c.pk for c in latecomers])

    channel.refresh_from_db()
    assert contact_list.size == 5
    assert channel.audience_size == 3
    audience = set(channel.audience_contact_ids().values_list("contact_id", flat=True))
    assert audience == first_three


def test_it_starts_a_channel_on_an_empty_list_with_an_empty_audience(manager):
    channel = ChannelFactory(campaign=CampaignFactory())

    channel.start(by=manager)

    channel.refresh_from_db()
    assert channel.audience_size == 0
    assert not channel.audience_contact_ids().exists()


def test_it_refuses_to_start_a_channel_of_an_archived_campaign(manager):
    channel = channel_in(READY)
    Campaign.objects.filter(pk=channel.campaign_id).update(
        status=Campaign.Status.ARCHIVED, archived_at=timezone.now()
    )
    channel_before = snapshot(channel)
    campaign_before = snapshot(channel.campaign)

    with pytest.raises(InvalidTransition, match="archived"):
        channel.start(by=manager)

    assert snapshot(channel) == channel_before
    assert snapshot(channel.campaign) == campaign_before
    assert not ActivityEvent.objects.exists()
