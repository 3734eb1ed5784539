"""The derived campaign status of SPEC section 3 and the campaign actions that depend on it."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import ActivityEvent, Campaign, Contact, ContactList
from channels.models import AlreadyDone, Channel, Delivery, InvalidTransition
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory, DeliveryFactory

pytestmark = pytest.mark.django_db

R, RUN, P, C, S = "ready", "running", "paused", "completed", "stopped"


@pytest.mark.parametrize(
    ("channel_statuses", "expected"),
    [
        ([], "draft"),
        ([R], "draft"),
        ([R, R, R], "draft"),
        ([RUN], "active"),
        ([P], "active"),
        ([R, RUN], "active"),
        ([C, P], "active"),
        ([S, C, RUN, R], "active"),
        ([C], "completed"),
        ([S], "completed"),
        ([C, S, S], "completed"),
        ([C, R], "active"),
        ([S, R, R], "active"),
    ],
)
def test_it_follows_the_rule_in_its_order(channel_statuses, expected):
    assert Campaign.compute_status(archived=False, channel_statuses=channel_statuses) == expected


@pytest.mark.parametrize("channel_statuses", [[], [R], [RUN], [P, C], [C, S]])
def test_it_puts_archived_before_everything(channel_statuses):
    status = Campaign.compute_status(archived=True, channel_statuses=channel_statuses)

    assert status == "archived"


def test_it_stores_the_status_it_computes_from_the_channels():
    campaign = CampaignFactory()
    ChannelFactory(campaign=campaign)
    finished = ChannelFactory(campaign=campaign)
    Channel.objects.filter(pk=finished.pk).update(status=Channel.Status.COMPLETED)

    campaign.refresh_status()

    assert Campaign.objects.get(pk=campaign.pk).status == "active"


def campaign_in(status: str, *, by) -> Campaign:
    """A campaign brought to `status` through the model methods only."""
    campaign = CampaignFactory(contact_list=ContactListFactory(size=2))
    channel = ChannelFactory(campaign=campaign)
    if status in ("active", "completed", "archived"):
        channel.start(by=by)
    if status in ("completed", "archived"):
        channel.stop(by=by)
    if status == "archived":
        campaign.refresh_from_db()
        campaign.archive(by=by)
    campaign.refresh_from_db()
    assert campaign.status == status
    return campaign


def snapshot(obj) -> dict:
    obj.refresh_from_db()
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_it_archives_a_completed_campaign(manager):
    campaign = campaign_in("completed", by=manager)

    campaign.archive(by=manager)

    assert campaign.status == "archived"
    campaign.refresh_from_db()
    assert campaign.status == "archived"
    assert campaign.archived_at is not None


def test_it_records_the_archive(manager):
    campaign = campaign_in("completed", by=manager)

    campaign.archive(by=manager)

    event = ActivityEvent.objects.filter(action="archive").get()
    assert event.actor == manager
    assert event.campaign == campaign
    assert (event.from_status, event.to_status) == ("completed", "archived")


def test_it_unarchives_back_to_completed(manager):
    campaign = campaign_in("archived", by=manager)

    campaign.unarchive(by=manager)

    assert campaign.status == "completed"
    campaign.refresh_from_db()
    assert campaign.status == "completed"
    assert campaign.archived_at is None


def test_it_records_the_unarchive(manager):
    campaign = campaign_in("archived", by=manager)

    campaign.unarchive(by=manager)

    event = ActivityEvent.objects.filter(action="unarchive").get()
    assert event.actor == manager
    assert event.campaign == campaign
    assert (event.from_status, event.to_status) == ("archived", "completed")


@pytest.mark.parametrize(
    ("status", "action", "message", "kind"),
    [
        (
            "draft",
            "archive",
            "Only a completed campaign can be archived; this one is draft.",
            InvalidTransition,
        ),
        (
            "active",
            "archive",
            "Only a completed campaign can be archived; this one is active.",
            InvalidTransition,
        ),
        ("archived", "archive", "This campaign is already archived.", AlreadyDone),
        ("draft", "unarchive", "This campaign is not archived.", AlreadyDone),
        ("active", "unarchive", "This campaign is not archived.", AlreadyDone),
        ("completed", "unarchive", "This campaign is not archived.", AlreadyDone),
    ],
)
def test_it_refuses_and_changes_nothing(status, action, message, kind, manager):
    campaign = campaign_in(status, by=manager)
    before = snapshot(campaign)
    events = ActivityEvent.objects.count()

    with pytest.raises(InvalidTransition) as refusal:
        getattr(campaign, action)(by=manager)

    assert str(refusal.value) == message
    assert type(refusal.value) is kind
    assert snapshot(campaign) == before
    assert ActivityEvent.objects.count() == events


def campaign_with_deliveries(channel_status: str) -> Campaign:
    campaign = CampaignFactory(contact_list=ContactListFactory(size=2))
    channel = ChannelFactory(campaign=campaign)
    for contact in campaign.contact_list.contacts.all():
        DeliveryFactory(channel=channel, contact=contact)
    Channel.objects.filter(pk=channel.pk).update(status=channel_status)
    campaign.refresh_status()
    return campaign


def test_it_refuses_to_delete_while_a_channel_is_running(manager):
    campaign = campaign_with_deliveries(RUN)
    ChannelFactory(campaign=campaign)

    with pytest.raises(InvalidTransition, match="running"):
        campaign.delete_everything(by=manager)

    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert Channel.objects.filter(campaign=campaign).count() == 2
    assert Delivery.objects.count() == 2
    assert not ActivityEvent.objects.exists()


@pytest.mark.parametrize("channel_status", [R, P, C, S])
def test_it_deletes_everything_of_the_campaign_but_the_contacts(channel_status, manager):
    campaign = campaign_with_deliveries(channel_status)
    other = ChannelFactory()

    campaign.delete_everything(by=manager)

    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert list(Channel.objects.all()) == [other]
    assert not Delivery.objects.exists()
    assert Contact.objects.count() == 2
    assert ContactList.objects.get(pk=campaign.contact_list_id).size == 2


def test_it_deletes_an_archived_campaign(manager):
    campaign = campaign_in("archived", by=manager)

    campaign.delete_everything(by=manager)

    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_it_keeps_a_record_of_the_deletion(manager):
    campaign = campaign_with_deliveries(C)
    name = campaign.name

    campaign.delete_everything(by=manager)

    event = ActivityEvent.objects.get()
    assert event.action == "delete"
    assert event.actor == manager
    assert name in event.subject
    assert event.from_status == "completed"


def test_it_turns_a_completed_campaign_active_when_a_channel_is_added(manager):
    campaign = campaign_in("completed", by=manager)

    campaign.add_channel(ChannelFactory.build(campaign=campaign), by=manager)

    assert Campaign.objects.get(pk=campaign.pk).status == "active"


def test_it_turns_an_active_campaign_completed_when_its_ready_channel_is_removed(manager):
    campaign = CampaignFactory()
    done, waiting = ChannelFactory.create_batch(2, campaign=campaign)
    done.start(by=manager)
    done.stop(by=manager)
    assert Campaign.objects.get(pk=campaign.pk).status == "active"

    waiting.remove(by=manager)

    assert Campaign.objects.get(pk=campaign.pk).status == "completed"


def test_it_refuses_a_new_channel_in_an_archived_campaign(manager):
    campaign = campaign_in("archived", by=manager)

    with pytest.raises(InvalidTransition, match="archived"):
        campaign.add_channel(ChannelFactory.build(campaign=campaign), by=manager)

    assert campaign.channels.count() == 1
    assert Campaign.objects.get(pk=campaign.pk).status == "archived"


def test_it_explains_in_validation_why_an_archived_campaign_takes_no_channel(manager):
    campaign = campaign_in("archived", by=manager)
    channel = ChannelFactory.build(campaign=campaign)

    with pytest.raises(ValidationError) as refusal:
        channel.full_clean()

    assert refusal.value.messages == ["This campaign is archived; unarchive it first."]


def test_it_breaks_the_status_down_with_active_work_first():
    from channels.breakdown import status_breakdown

    statuses = ["ready", "completed", "running", "paused", "running", "stopped"]
    assert status_breakdown(statuses) == (
        "2 running · 1 paused · 1 ready · 1 completed · 1 stopped"
    )
    assert status_breakdown([]) == ""
