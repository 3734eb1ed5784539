"""The admin cannot do what the pages refuse (issue 13, point 2; SPEC section 6): every
change form is posted, as a superuser would, with the values the pages refuse."""

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from channels.models import Channel
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactFactory,
    ContactListFactory,
    SuperuserFactory,
    put_channel_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(SuperuserFactory())
    return client


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def post_change_form(client, obj, **changes):
    """GET the change form, then POST what it shows with `changes` on top (every editable
    field and the inlines' management forms, as a browser would)."""
    page = client.get(change_url(obj))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    data.update(changes)
    return client.post(change_url(obj), {k: v for k, v in data.items() if v is not False})


def archived_campaign() -> Campaign:
    campaign = CampaignFactory(name="Archived")
    put_channel_in(ChannelFactory(campaign=campaign), Channel.Status.COMPLETED)
    campaign.refresh_status()
    campaign.archive()
    return campaign


def started_campaign() -> Campaign:
    campaign = CampaignFactory(name="Started")
    put_channel_in(ChannelFactory(campaign=campaign), Channel.Status.PAUSED)
    campaign.refresh_status()
    return campaign


def test_it_keeps_a_started_campaigns_contact_list(admin_client):
    campaign = started_campaign()
    original = campaign.contact_list
    post_change_form(admin_client, campaign, contact_list=ContactListFactory().pk)
    campaign.refresh_from_db()
    assert campaign.contact_list == original


def test_it_still_changes_a_draft_campaigns_contact_list(admin_client):
    campaign = CampaignFactory()
    other = ContactListFactory()
    response = post_change_form(admin_client, campaign, contact_list=other.pk)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.contact_list == other


def test_it_keeps_an_archived_campaigns_name_and_description(admin_client):
    campaign = archived_campaign()
    post_change_form(admin_client, campaign, name="Renamed", description="New")
    campaign.refresh_from_db()
    assert (campaign.name, campaign.description) == ("Archived", "")


def test_it_adds_no_channel_to_an_archived_campaign_through_its_inline(admin_client):
    campaign = archived_campaign()
    post_change_form(
        admin_client,
        campaign,
        **{
            "channels-TOTAL_FORMS": "1",
            "channels-0-name": "Sneaked in",
            "channels-0-kind": "sms",
            "channels-0-max_per_second": "10",
        },
    )
    assert not campaign.channels.filter(name="Sneaked in").exists()


@pytest.mark.parametrize("target", ["archived", "active"])
def test_it_never_moves_a_ready_channel_to_another_campaign(admin_client, target):
    channel = ChannelFactory()
    home = channel.campaign
    other = archived_campaign() if target == "archived" else started_campaign()
    post_change_form(admin_client, channel, campaign=other.pk)
    channel.refresh_from_db()
    assert channel.campaign == home
    home.refresh_from_db()
    other.refresh_from_db()
    assert home.status == Campaign.Status.DRAFT
    assert other.channels.count() == 1


def test_it_keeps_a_paused_channels_kind(admin_client):
    channel = put_channel_in(ChannelFactory(kind=Channel.Kind.SMS), Channel.Status.PAUSED)
    post_change_form(admin_client, channel, kind=Channel.Kind.EMAIL)
    channel.refresh_from_db()
    assert channel.kind == Channel.Kind.SMS


@pytest.mark.parametrize("status", [Channel.Status.RUNNING, Channel.Status.COMPLETED])
def test_it_changes_nothing_on_a_channel_past_editing(admin_client, status):
    channel = put_channel_in(ChannelFactory(sms_template="Hi"), status)
    post_change_form(admin_client, channel, sms_template="Changed", max_per_second="5")
    channel.refresh_from_db()
    assert (channel.sms_template, channel.max_per_second) == ("Hi", 1000)


def test_it_refuses_an_sms_template_the_channel_form_refuses(admin_client):
    channel = ChannelFactory(sms_template="Hi")
    response = post_change_form(admin_client, channel, sms_template="x" * 1601)
    assert response.status_code == 200
    channel.refresh_from_db()
    assert channel.sms_template == "Hi"


def test_it_keeps_a_contacts_consent_to_its_own_history(admin_client):
    contact = ContactFactory()
    post_change_form(admin_client, contact, opted_out_sms="on", opted_out_email="on")
    contact.refresh_from_db()
    assert not contact.opted_out_sms and not contact.opted_out_email
