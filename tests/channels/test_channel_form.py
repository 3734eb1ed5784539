"""Adding a channel to a campaign (`campaigns:add_channel`) and editing one (`channels:edit`)."""

from datetime import time

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
    assert "A running channel cannot be edited: pause it first" in response.content.decode()
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


WINDOW = {"window_days": ["0", "1", "2", "3", "4"], "window_start": "09:00", "window_end": "17:30"}


def test_it_shows_the_sending_window_with_the_calls_and_texts_default(manager_client, campaign):
    html = manager_client.get(add_url(campaign)).content.decode()
    assert "<legend>Sending window</legend>" in html
    assert 'value="08:00"' in html and 'value="21:00"' in html


@pytest.mark.parametrize(
    ("kind", "fields", "window"),
    [
        ("ai_voice", VOICE, (time(8), time(21))),
        ("email", {"email_subject": "Hi", "email_body": "Hello"}, (None, None)),
    ],
)
def test_a_new_channel_gets_its_kinds_default_window(
    manager_client, campaign, kind, fields, window
):
    form = {
        **fields,
        "kind": kind,
        "name": "New",
        "max_per_second": 2,
        "window_days": [str(day) for day in range(7)],
        "window_start": "08:00",  # the page's initial values, untouched
        "window_end": "21:00",
    }
    assert manager_client.post(add_url(campaign), form).status_code == 302
    channel = Channel.objects.get()
    assert (channel.window_start, channel.window_end) == window
    assert channel.window_days == list(range(7))


def test_it_saves_a_chosen_window(manager_client, campaign):
    assert manager_client.post(add_url(campaign), {**VOICE, **WINDOW}).status_code == 302
    channel = Channel.objects.get()
    assert channel.window_days == [0, 1, 2, 3, 4]
    assert (channel.window_start, channel.window_end) == (time(9), time(17, 30))


@pytest.mark.parametrize(
    ("window", "field", "message"),
    [
        ({"window_days": []}, "window_days", "Choose at least one day to send on."),
        ({"window_start": "09:00", "window_end": "09:00"}, "window_end", "must close after"),
        ({"window_start": "21:00", "window_end": "08:00"}, "window_end", "must close after"),
        ({"window_start": "", "window_end": "08:00"}, "window_start", "Give both times"),
    ],
)
def test_it_refuses_an_empty_window(manager_client, campaign, window, field, message):
    response = manager_client.post(add_url(campaign), {**VOICE, **WINDOW, **window})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Channel.objects.exists()


def test_it_edits_the_window(manager_client, campaign):
    channel = ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE, voice_script="Hi")
    data = {**VOICE, "window_days": ["5", "6"], "window_start": "", "window_end": ""}
    assert manager_client.post(edit_url(channel), data).status_code == 302
    channel.refresh_from_db()
    assert channel.window_days == [5, 6]
    assert (channel.window_start, channel.window_end) == (None, None)


def test_it_shows_every_day_checked_for_a_new_channel_and_the_channels_own_days_when_editing(
    db,
):
    from channels.forms import ChannelForm
    from tests.factories import ChannelFactory

    assert ChannelForm()["window_days"].value() == [0, 1, 2, 3, 4, 5, 6]
    assert str(ChannelForm()["window_days"]).count("checked") == 7
    channel = ChannelFactory(window_days=[0, 2])
    assert ChannelForm(instance=channel)["window_days"].value() == [0, 2]


RETRIES = {"retry_outcomes": ["no_answer", "busy"], "retry_after_minutes": 15, "max_attempts": 3}


def test_it_saves_a_voice_retry_policy(manager_client, campaign):
    response = manager_client.get(add_url(campaign))
    assert 'name="retry_after_minutes"' in response.content.decode()
    assert manager_client.post(add_url(campaign), {**VOICE, **RETRIES}).status_code == 302
    channel = Channel.objects.get()
    assert channel.retry_outcomes == ["no_answer", "busy"]
    assert (channel.retry_after_minutes, channel.max_attempts) == (15, 3)


@pytest.mark.parametrize(
    ("policy", "field", "message"),
    [
        ({"retry_after_minutes": 1}, "retry_after_minutes", "at least 2 minutes"),
        ({"max_attempts": 6}, "max_attempts", "from 1 to 5 times"),
        ({"max_attempts": 0}, "max_attempts", "from 1 to 5 times"),
        ({"retry_outcomes": ["answered"]}, "retry_outcomes", "not one of the available"),
    ],
)
def test_it_refuses_a_retry_policy_outside_its_bounds(
    manager_client, campaign, policy, field, message
):
    response = manager_client.post(add_url(campaign), {**VOICE, **RETRIES, **policy})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Channel.objects.exists()


def test_a_channel_of_another_kind_keeps_no_retry_policy(manager_client, campaign):
    data = {"kind": "sms", "name": "Texts", "sms_template": "Hi", "max_per_second": 10}
    assert manager_client.post(add_url(campaign), data).status_code == 302
    channel = Channel.objects.get()
    assert (channel.retry_outcomes, channel.max_attempts) == ([], 1)


def test_a_paused_channel_can_change_its_retry_policy(manager_client, campaign):
    channel = ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE, voice_script="Hi")
    channel.start()
    channel.pause()
    data = {**VOICE, **WINDOW, **RETRIES, "kind": "ai_voice", "max_attempts": 2}
    assert manager_client.post(edit_url(channel), data).status_code == 302
    channel.refresh_from_db()
    assert (channel.retry_outcomes, channel.max_attempts) == (["no_answer", "busy"], 2)


def test_it_caps_an_email_subject_with_a_clear_message(manager_client, campaign):
    data = {"kind": "email", "name": "Mail", "max_per_second": 5, "email_body": "Hi"}
    response = manager_client.post(add_url(campaign), {**data, "email_subject": "x" * 201})
    assert "The subject can be at most 200 characters; this one has 201." in (
        response.content.decode()
    )
    assert not campaign.channels.exists()


def test_it_saves_a_text_s_line_breaks_as_a_phone_counts_them(manager_client, campaign):
    data = {"kind": "sms", "name": "Texts", "max_per_second": 5, "max_concurrent": 1}
    response = manager_client.post(add_url(campaign), {**data, "sms_template": "Hi\r\nthere"})
    assert response.status_code == 302
    assert campaign.channels.get().sms_template == "Hi\nthere"
