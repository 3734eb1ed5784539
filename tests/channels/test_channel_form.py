"""Adding a channel to a campaign (`campaigns:add_channel`) and editing one (`channels:edit`)."""

import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent, Campaign
from channels.forms import ChannelForm
from channels.models import Channel
from tests.conftest import url_for
from tests.factories import CampaignFactory, ChannelFactory


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="Spring")


add_url = url_for("campaigns:add_channel")


edit_url = url_for("channels:edit")


VOICE = {
    "kind": "ai_voice",
    "name": "Calls",
    "voice_script": "Hello {first_name}, it is Herald.",
    "caller_id": "+12025550100",
    "max_concurrent": 5,
    "max_per_second": 2,
}


def test_it_shows_every_kind_of_content(manager_client, campaign):
    response = manager_client.get(add_url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    for legend in ("AI Voice content", "SMS Blast content", "Email content"):
        assert f"<legend>{legend}</legend>" in html


def test_it_adds_a_ready_channel(manager_client, manager, campaign):
    response = manager_client.post(add_url(campaign), VOICE)
    assert response.status_code == 302
    assert response.url == reverse("campaigns:detail", args=[campaign.pk])
    channel = Channel.objects.get()
    assert (channel.campaign, channel.kind, channel.status) == (
        campaign,
        Channel.Kind.AI_VOICE,
        Channel.Status.READY,
    )
    assert channel.max_concurrent == 5
    assert channel.created_by == manager
    assert ActivityEvent.objects.filter(action="add", channel=channel).exists()


def test_it_makes_a_completed_campaign_active_again(manager_client, manager, campaign):
    done = ChannelFactory(campaign=campaign)
    done.start(by=manager)
    done.stop(by=manager)
    manager_client.post(add_url(campaign), VOICE)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE


def test_it_requires_the_content_of_the_kind(manager_client, campaign):
    data = {"kind": "email", "name": "Mail", "max_per_second": 10, "max_concurrent": 1}
    response = manager_client.post(add_url(campaign), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["email_subject"] == ["This field is required for this kind of channel."]
    assert errors["email_body"] == ["This field is required for this kind of channel."]
    assert "voice_script" not in errors
    assert not Channel.objects.exists()


def test_it_refuses_an_unknown_placeholder_next_to_its_field(manager_client, campaign):
    data = {**VOICE, "voice_script": "Hello {first name}!"}
    response = manager_client.post(add_url(campaign), data)
    assert response.status_code == 200
    assert "Unknown placeholder {first name}" in response.context["form"].errors["voice_script"][0]
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert not Channel.objects.exists()


def test_it_refuses_pacing_below_one(manager_client, campaign):
    response = manager_client.post(add_url(campaign), {**VOICE, "max_per_second": 0})
    assert "max_per_second" in response.context["form"].errors


def test_it_refuses_an_archived_campaign_with_409(manager_client, manager, campaign):
    done = ChannelFactory(campaign=campaign)
    done.start(by=manager)
    done.stop(by=manager)
    campaign.refresh_from_db()
    campaign.archive(by=manager)
    response = manager_client.post(add_url(campaign), VOICE)
    assert response.status_code == 409
    assert "This campaign is archived; unarchive it first." in response.content.decode()
    assert campaign.channels.count() == 1


def test_it_answers_409_when_the_campaign_was_archived_after_the_page_loaded(
    manager_client, manager, campaign, monkeypatch
):
    done = ChannelFactory(campaign=campaign)
    done.start(by=manager)
    done.stop(by=manager)
    campaign.refresh_from_db()
    # The view checks the campaign it loaded; archive it just after, as another person would.
    form_is_valid = ChannelForm.is_valid

    def archive_then_validate(form):
        Campaign.objects.get(pk=campaign.pk).archive(by=manager)
        return form_is_valid(form)

    monkeypatch.setattr(ChannelForm, "is_valid", archive_then_validate)
    response = manager_client.post(add_url(campaign), VOICE)
    assert response.status_code == 409
    assert "This campaign is archived; unarchive it first." in response.content.decode()
    assert campaign.channels.count() == 1


def test_it_edits_a_ready_channel(manager_client):
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Texts")
    data = {
        "kind": "email",
        "name": "Mail",
        "email_subject": "Hi {first_name}",
        "email_body": "Dear {name}",
        "max_per_second": 3,
        "max_concurrent": 1,
    }
    response = manager_client.post(edit_url(channel), data)
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.kind, channel.name, channel.max_per_second) == ("email", "Mail", 3)
    assert ActivityEvent.objects.filter(action="edit", channel=channel).exists()


def test_it_edits_a_paused_channel_but_not_its_kind(manager_client, manager):
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Texts")
    channel.start(by=manager)
    channel.pause(by=manager)
    data = {"kind": "email", "name": "Texts", "sms_template": "Fixed {first_name}"}
    response = manager_client.post(edit_url(channel), {**data, "max_per_second": 4})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.kind == Channel.Kind.SMS
    assert (channel.sms_template, channel.max_per_second) == ("Fixed {first_name}", 4)
    assert channel.status == Channel.Status.PAUSED


def test_it_refuses_a_text_longer_than_twilio_takes(manager_client, campaign):
    data = {"kind": "sms", "name": "Texts", "max_per_second": 5, "max_concurrent": 1}
    response = manager_client.post(add_url(campaign), {**data, "sms_template": "x" * 1601})
    assert response.status_code == 200
    assert "A text can be at most 1,600 characters" in response.content.decode()
    assert not campaign.channels.exists()

    response = manager_client.post(add_url(campaign), {**data, "sms_template": "x" * 1600})
    assert response.status_code == 302
    assert len(campaign.channels.get().sms_template) == 1600


@pytest.mark.parametrize(
    ("kind", "field", "limit", "label"),
    [
        ("email", "email_body", 100_000, "body"),
        ("ai_voice", "voice_script", 20_000, "agent script"),
    ],
)
def test_it_caps_an_email_body_and_a_call_script(
    manager_client, campaign, kind, field, limit, label
):
    data = {
        "kind": kind,
        "name": "Long",
        "max_per_second": 5,
        "max_concurrent": 1,
        "email_subject": "Hello",
        "email_body": "Hi",
        "voice_script": "Hi",
    }
    response = manager_client.post(add_url(campaign), {**data, field: "x" * (limit + 1)})
    assert response.status_code == 200
    assert f"The {label} can be at most {limit:,} characters" in response.content.decode()
    assert not campaign.channels.exists()

    response = manager_client.post(add_url(campaign), {**data, field: "x" * limit})
    assert response.status_code == 302


def test_it_refuses_to_edit_a_running_channel_with_409(manager_client, manager):
    channel = ChannelFactory(name="Texts")
    channel.start(by=manager)
    response = manager_client.post(edit_url(channel), {"name": "Other", "max_per_second": 1})
    assert response.status_code == 409
    assert "A running channel cannot be edited." in response.content.decode()
    channel.refresh_from_db()
    assert channel.name == "Texts"


def test_it_forbids_a_viewer(viewer_client, campaign):
    channel = ChannelFactory(campaign=campaign)
    assert viewer_client.get(add_url(campaign)).status_code == 403
    assert viewer_client.post(add_url(campaign), VOICE).status_code == 403
    assert viewer_client.post(edit_url(channel), VOICE).status_code == 403
    assert campaign.channels.count() == 1


def test_it_requires_sign_in(client, campaign):
    assert client.get(add_url(campaign)).url.startswith(reverse("login"))


def test_it_answers_404_for_unknown_ids(manager_client):
    assert manager_client.get(reverse("campaigns:add_channel", args=[999999])).status_code == 404
    assert manager_client.get(reverse("channels:edit", args=[999999])).status_code == 404
