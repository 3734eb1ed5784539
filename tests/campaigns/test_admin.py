"""The Django admin: its actions go through the model methods, and every page loads."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ActivityEvent, Campaign, Contact, Preferences
from channels import events
from channels.models import (
    Attempt,
    AudienceMember,
    Channel,
    CounterDelta,
    Delivery,
    EngineLease,
)
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactListFactory,
    DeliveryFactory,
    ImportJobFactory,
    SuperuserFactory,
    put_channel_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return SuperuserFactory()


@pytest.fixture
def admin_site_client(client, superuser):
    client.force_login(superuser)
    return client


def run_action(client, model, action: str, objects) -> list[str]:
    """Post the changelist action as the admin's form does; return the messages it left."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.post(
        url, {"action": action, "_selected_action": [obj.pk for obj in objects], "index": 0}
    )
    assert response.status_code == 302
    return [str(message) for message in get_messages(response.wsgi_request)]


def channel_in(status: str) -> Channel:
    channel = ChannelFactory(campaign__contact_list=ContactListFactory(size=2))
    put_channel_in(channel, status)
    channel.campaign.refresh_status()
    return channel


@pytest.mark.parametrize(
    ("status", "action", "reached"),
    [
        ("ready", "start_selected", "running"),
        ("running", "pause_selected", "paused"),
        ("paused", "resume_selected", "running"),
        ("running", "stop_selected", "stopped"),
        ("paused", "stop_selected", "stopped"),
    ],
)
def test_it_operates_a_channel_through_the_model(
    status, action, reached, admin_site_client, superuser
):
    channel = channel_in(status)

    messages = run_action(admin_site_client, Channel, action, [channel])

    channel.refresh_from_db()
    assert channel.status == reached
    event = ActivityEvent.objects.get()
    assert (event.actor, event.channel, event.from_status, event.to_status) == (
        superuser,
        channel,
        status,
        reached,
    )
    assert any("1 done" in message for message in messages)


@pytest.mark.parametrize(
    ("status", "action", "refusal"),
    [
        ("ready", "pause_selected", "A ready channel cannot be paused."),
        ("running", "start_selected", "This channel is already running."),
        ("paused", "pause_selected", "This channel is already paused."),
        ("stopped", "stop_selected", "This channel is already stopped."),
        ("completed", "resume_selected", "This channel has completed; it cannot be changed."),
    ],
)
def test_it_shows_the_refusal_and_changes_nothing(status, action, refusal, admin_site_client):
    channel = channel_in(status)
    before = Channel.objects.filter(pk=channel.pk).values().get()

    messages = run_action(admin_site_client, Channel, action, [channel])

    assert messages == [f"{channel}: {refusal}"]
    assert Channel.objects.filter(pk=channel.pk).values().get() == before
    assert not ActivityEvent.objects.exists()


def test_it_does_the_allowed_ones_of_a_mixed_selection(admin_site_client):
    ready, running = channel_in("ready"), channel_in("running")

    messages = run_action(admin_site_client, Channel, "start_selected", [ready, running])

    ready.refresh_from_db()
    running.refresh_from_db()
    assert (ready.status, running.status) == ("running", "running")
    assert ActivityEvent.objects.get().channel == ready
    assert f"{running}: This channel is already running." in messages


def completed_campaign(by) -> Campaign:
    channel = ChannelFactory(campaign__contact_list=ContactListFactory(size=2))
    channel.start(by=by)
    channel.stop(by=by)
    return Campaign.objects.get(pk=channel.campaign_id)


def test_it_archives_a_campaign_through_the_model(admin_site_client, superuser):
    campaign = completed_campaign(superuser)

    run_action(admin_site_client, Campaign, "archive_selected", [campaign])

    campaign.refresh_from_db()
    assert campaign.status == "archived"
    assert campaign.archived_at is not None
    event = ActivityEvent.objects.get(action="archive")
    assert (event.actor, event.campaign) == (superuser, campaign)


def test_it_unarchives_a_campaign_through_the_model(admin_site_client, superuser):
    campaign = completed_campaign(superuser)
    campaign.archive(by=superuser)

    run_action(admin_site_client, Campaign, "unarchive_selected", [campaign])

    campaign.refresh_from_db()
    assert campaign.status == "completed"
    assert ActivityEvent.objects.filter(action="unarchive", actor=superuser).count() == 1


def test_it_shows_why_a_campaign_cannot_be_archived(admin_site_client):
    campaign = CampaignFactory()
    before = Campaign.objects.filter(pk=campaign.pk).values().get()

    messages = run_action(admin_site_client, Campaign, "archive_selected", [campaign])

    assert messages == [
        f"{campaign}: Only a completed campaign can be archived; this one is draft."
    ]
    assert Campaign.objects.filter(pk=campaign.pk).values().get() == before
    assert not ActivityEvent.objects.exists()


def test_it_adds_a_channel_through_the_campaign(admin_site_client, superuser):
    campaign = completed_campaign(superuser)
    data = {"campaign": campaign.pk, "kind": "sms", "name": "Texts", "max_per_second": 5}
    data |= {"sms_template": "Hi {name}", "max_concurrent": 1, "source_outcomes": "[]"}
    data |= {"retry_after_minutes": 60, "max_attempts": 1}

    response = admin_site_client.post(reverse("admin:channels_channel_add"), data)

    assert response.status_code == 302
    channel = campaign.channels.get(name="Texts")
    assert Campaign.objects.get(pk=campaign.pk).status == "active"
    assert ActivityEvent.objects.filter(action="add", channel=channel, actor=superuser).exists()


def test_it_removes_a_ready_channel_through_the_model(admin_site_client, superuser):
    campaign = completed_campaign(superuser)
    waiting = ChannelFactory(campaign=campaign)
    campaign.refresh_status()
    url = reverse("admin:channels_channel_delete", args=[waiting.pk])

    response = admin_site_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Channel.objects.filter(pk=waiting.pk).exists()
    assert Campaign.objects.get(pk=campaign.pk).status == "completed"
    assert ActivityEvent.objects.filter(action="remove", actor=superuser).exists()


def test_it_offers_no_channel_actions_without_the_operate_permission(client, viewer):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    channel = channel_in("ready")
    url = reverse("admin:channels_channel_changelist")

    page = client.get(url)
    client.post(url, {"action": "start_selected", "_selected_action": [channel.pk], "index": 0})

    assert page.status_code == 200
    assert "start_selected" not in page.content.decode()
    channel.refresh_from_db()
    assert channel.status == "ready"
    assert not ActivityEvent.objects.exists()


@pytest.fixture
def every_kind_of_row(superuser):
    channel = ChannelFactory(campaign__contact_list=ContactListFactory(size=2))
    channel.start(by=superuser)
    contact = channel.campaign.contact_list.contacts.first()
    DeliveryFactory(channel=channel, contact=contact)
    contact.set_consent("sms", opted_out=True, source="manager", by=superuser)
    AudienceMember.objects.create(
        channel=ChannelFactory(campaign=channel.campaign), contact=contact
    )
    completed_campaign(superuser).archive(by=superuser)
    ImportJobFactory(contact_list=channel.campaign.contact_list)
    EngineLease.objects.create(name="supervisor", token="t", expires_at=timezone.now())
    events.ingest(events.Report(provider="twilio", event_id="SM1:sent", provider_id="SM1"))
    CounterDelta.objects.create(channel=channel, processed=1)
    Attempt.objects.create(
        delivery=Delivery.objects.get(contact=contact),
        number=1,
        outcome="busy",
        provider_id="call-1",
        started_at=timezone.now(),
    )
    Preferences.set_zone(superuser, "America/Chicago")


CHANGELIST_QUERIES = {
    "campaigns.campaign": ["", "?status=active", "?status=archived", "?archived=yes", "?q=a"],
    "campaigns.contactlist": ["", "?q=List"],
    "campaigns.contact": ["", "?opted_out_sms__exact=1", "?q=Contact"],
    "campaigns.activityevent": ["", "?action=start", "?q=channel"],
    "channels.channel": ["", "?status__exact=running", "?kind__exact=sms", "?q=SMS"],
    "channels.delivery": ["", "?state__exact=done", "?channel__kind__exact=sms", "?converted=0"],
    "channels.audiencemember": [""],
    "campaigns.membership": ["", "?q=List"],
    "campaigns.importjob": ["", "?status__exact=queued"],
    "channels.enginelease": [""],
    "channels.providerevent": ["", "?provider__exact=twilio", "?q=SM"],
    "campaigns.consentchange": ["", "?kind__exact=sms", "?source__exact=manager"],
    "channels.counterdelta": [""],
    "channels.attempt": ["", "?outcome__exact=busy", "?q=call"],
    "campaigns.preferences": ["", "?q=Chicago"],
}


def test_it_registers_every_model_of_herald():
    registered = {
        model._meta.label_lower
        for model in admin.site._registry
        if model._meta.app_label in ("campaigns", "channels")
    }
    every_model = {
        model._meta.label_lower
        for label in ("campaigns", "channels")
        for model in apps.get_app_config(label).get_models()
    }

    assert registered == every_model == set(CHANGELIST_QUERIES)


@pytest.mark.parametrize(
    ("label", "query"),
    [(label, query) for label, queries in CHANGELIST_QUERIES.items() for query in queries],
)
def test_it_loads_the_changelist(label, query, admin_site_client, every_kind_of_row):
    app_label, model_name = label.split(".")

    response = admin_site_client.get(reverse(f"admin:{app_label}_{model_name}_changelist") + query)

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("status", ["ready", "running", "paused", "stopped"])
def test_it_loads_a_channel_page_in_every_status(status, admin_site_client):
    channel = channel_in(status)

    response = admin_site_client.get(reverse("admin:channels_channel_change", args=[channel.pk]))

    assert response.status_code == 200


def test_it_loads_a_campaign_page_with_its_channels(admin_site_client):
    channel = channel_in("running")

    response = admin_site_client.get(
        reverse("admin:campaigns_campaign_change", args=[channel.campaign_id])
    )

    assert response.status_code == 200
    assert channel.name in response.content.decode()


def test_it_deletes_a_finished_campaign_through_the_model(admin_site_client, superuser):
    campaign = completed_campaign(superuser)
    DeliveryFactory(
        channel=campaign.channels.get(), contact=campaign.contact_list.contacts.first()
    )
    url = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])

    response = admin_site_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert not Channel.objects.exists()
    assert Contact.objects.count() == 2
    event = ActivityEvent.objects.get()
    assert (event.action, event.actor) == ("delete", superuser)


@pytest.mark.parametrize("how", ["page", "action"])
def test_it_refuses_to_delete_a_campaign_with_a_running_channel(how, admin_site_client):
    channel = channel_in("running")
    if how == "page":
        url = reverse("admin:campaigns_campaign_delete", args=[channel.campaign_id])
        data = {"post": "yes"}
    else:
        url = reverse("admin:campaigns_campaign_changelist")
        data = {"action": "delete_selected", "_selected_action": [channel.campaign_id]}
        data["post"] = "yes"

    response = admin_site_client.post(url, data)

    assert response.status_code == 403
    assert Campaign.objects.filter(pk=channel.campaign_id).exists()
    assert Channel.objects.get(pk=channel.pk).status == "running"
    assert not ActivityEvent.objects.exists()
