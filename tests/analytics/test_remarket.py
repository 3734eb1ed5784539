"""channels:remarket — a follow-up channel from a finished channel's outcomes."""

import pytest

from campaigns.models import ActivityEvent, Contact
from channels import dispatch
from channels.models import AudienceMember, Channel, Delivery
from tests.conftest import url_for
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactFactory,
    ContactListFactory,
    DeliveryFactory,
    build_ledger,
    put_channel_in,
)

pytestmark = pytest.mark.django_db

DONE = Delivery.State.DONE


url_of = url_for("channels:remarket")


@pytest.fixture
def source():
    """A completed voice channel: 4 no_answer (1 converted), 2 voicemail, 3 answered, ..."""
    channel = ChannelFactory(kind=Channel.Kind.AI_VOICE)
    build_ledger(
        channel,
        [(DONE, "no_answer")] * 3
        + [(DONE, "no_answer", True)]
        + [(DONE, "voicemail")] * 2
        + [(DONE, "answered", True)] * 3
        + [(Delivery.State.FAILED, "failed")]
        + [(Delivery.State.SKIPPED, "")]
        + [(Delivery.State.INTERRUPTED, "")],
    )
    return put_channel_in(channel, Channel.Status.COMPLETED, audience_size=12)


def contacts_with(source: Channel, *outcomes: str, unconverted: bool = False) -> set[int]:
    deliveries = Delivery.objects.filter(channel=source, outcome__in=outcomes)
    if unconverted:
        deliveries = deliveries.filter(converted=False)
    return set(deliveries.values_list("contact_id", flat=True))


def sms_form(**extra) -> dict:
    return {
        "kind": "sms",
        "name": "Follow-up SMS",
        "sms_template": "Hi {first_name}, sorry we missed you.",
        "max_per_second": "50",
        "max_concurrent": "10",
        **extra,
    }


def audience_of(channel: Channel) -> set[int]:
    return set(AudienceMember.objects.filter(channel=channel).values_list("contact_id", flat=True))


def test_it_shows_outcomes_with_their_counts(manager_client, source):
    response = manager_client.get(url_of(source))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No answer 4" in html
    assert "(3 not converted)" in html
    assert "Voicemail 2" in html
    assert "Not reached 1" in html  # the interrupted one; the run left nobody unreached
    assert "no_answer" not in html.replace('value="no_answer"', "")
    assert 'name="sms_template"' in html and 'name="max_per_second"' in html


def test_it_creates_a_ready_channel_whose_audience_is_exactly_the_chosen(
    manager_client, manager, source
):
    form = sms_form(outcomes=["no_answer", "voicemail"])
    response = manager_client.post(url_of(source), form)
    follow_up = Channel.objects.get(name="Follow-up SMS")
    # The command center, where its Start button is.
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/{source.campaign_id}/#channel-{follow_up.pk}"
    assert follow_up.status == Channel.Status.READY
    assert follow_up.campaign_id == source.campaign_id
    assert follow_up.kind == Channel.Kind.SMS
    assert follow_up.source_channel == source
    assert follow_up.source_outcomes == ["no_answer", "voicemail"]
    assert follow_up.source_unconverted_only is False
    assert audience_of(follow_up) == contacts_with(source, "no_answer", "voicemail")
    assert follow_up.audience_size == 6
    event = ActivityEvent.objects.get(action="remarket")
    assert event.actor == manager and event.channel == follow_up
    assert f"Follow-up of “{source.name}” (AI Voice) · no answer, voicemail" in event.message


def test_it_keeps_only_the_unconverted_when_asked(manager_client, source):
    form = sms_form(outcomes=["no_answer"], unconverted_only="on")
    manager_client.post(url_of(source), form)
    follow_up = Channel.objects.get(name="Follow-up SMS")
    assert audience_of(follow_up) == contacts_with(source, "no_answer", unconverted=True)
    assert follow_up.audience_size == 3
    assert follow_up.source_unconverted_only


def test_it_follows_up_outcome_less_states(manager_client, source):
    manager_client.post(url_of(source), sms_form(outcomes=["not_reached", "skipped"]))
    follow_up = Channel.objects.get(name="Follow-up SMS")
    expected = set(
        Delivery.objects.filter(channel=source, state__in=["interrupted", "skipped"]).values_list(
            "contact_id", flat=True
        )
    )
    assert audience_of(follow_up) == expected and len(expected) == 2


def test_it_follows_up_the_contacts_a_stopped_run_never_reached(manager_client):
    campaign = CampaignFactory(contact_list=ContactListFactory(size=5))
    voice = ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE, name="Spring calls")
    voice.start()
    audience = set(campaign.contact_list.contacts.values_list("pk", flat=True))
    first, second, third, *never = sorted(audience)
    DeliveryFactory(channel=voice, contact_id=first, state=DONE, outcome="answered")
    DeliveryFactory(channel=voice, contact_id=second, state=Delivery.State.INTERRUPTED, outcome="")
    DeliveryFactory(channel=voice, contact_id=third, state=DONE, outcome="no_answer")
    voice.stop()
    # Joined the list after the start: not part of the run, so not "not reached" either.
    campaign.contact_list.add_contacts([ContactFactory().pk])

    html = manager_client.get(url_of(voice)).content.decode()
    assert "Not reached 3" in html

    response = manager_client.post(url_of(voice), sms_form(outcomes=["no_answer", "not_reached"]))
    assert response.status_code == 302
    follow_up = Channel.objects.get(name="Follow-up SMS")
    assert audience_of(follow_up) == {second, third, *never}
    assert follow_up.audience_size == 4
    assert follow_up.source_outcomes == ["no_answer", "not_reached"]
    card = manager_client.get(response["Location"]).content.decode()
    assert "Follow-up of “Spring calls” (AI Voice) · no answer, not reached" in card


def test_it_freezes_the_audience_when_the_source_gains_deliveries(manager_client, source):
    manager_client.post(url_of(source), sms_form(outcomes=["no_answer"]))
    follow_up = Channel.objects.get(name="Follow-up SMS")
    before = audience_of(follow_up)
    DeliveryFactory(channel=source, outcome="no_answer")
    build_ledger(source, [(DONE, "no_answer")] * 2)
    follow_up.refresh_from_db()
    assert audience_of(follow_up) == before
    assert follow_up.audience_size == len(before) == 4


def test_it_runs_exactly_the_chosen_contacts_and_skips_the_opted_out(fast_engine, manager):
    from channels.remarketing import create_follow_up

    campaign = CampaignFactory(contact_list=ContactListFactory(size=60))
    voice = ChannelFactory(campaign=campaign, kind=Channel.Kind.AI_VOICE)
    voice.start()
    voice = dispatch.run_until_idle(channel_id=voice.pk)
    chosen = contacts_with(voice, "no_answer", "voicemail")
    assert chosen
    follow_up = create_follow_up(
        source=voice,
        channel=ChannelFactory.build(campaign=campaign, kind=Channel.Kind.SMS, name="SMS"),
        outcomes=["no_answer", "voicemail"],
        unconverted_only=False,
        by=manager,
    )
    opted_out = sorted(chosen)[0]
    Contact.objects.filter(pk=opted_out).update(opted_out_sms=True)
    follow_up.start(by=manager)
    follow_up = dispatch.run_until_idle(channel_id=follow_up.pk)

    assert follow_up.status == Channel.Status.COMPLETED
    ledger = Delivery.objects.filter(channel=follow_up)
    assert set(ledger.values_list("contact_id", flat=True)) == chosen
    assert follow_up.processed == follow_up.audience_size == len(chosen)
    skipped = ledger.get(contact_id=opted_out)
    assert skipped.state == Delivery.State.SKIPPED and "Opted out" in skipped.error


def test_it_refuses_a_source_that_is_not_finished(manager_client):
    channel = ChannelFactory(kind=Channel.Kind.AI_VOICE)
    for status in (Channel.Status.READY, Channel.Status.RUNNING, Channel.Status.PAUSED):
        put_channel_in(channel, status)
        response = manager_client.post(url_of(channel), sms_form(outcomes=["no_answer"]))
        assert response.status_code == 409
        assert "Only a completed or stopped channel" in response.content.decode()
    assert Channel.objects.count() == 1


def test_it_accepts_a_stopped_source(manager_client, source):
    put_channel_in(source, Channel.Status.STOPPED)
    response = manager_client.post(url_of(source), sms_form(outcomes=["answered"]))
    assert response.status_code == 302


def test_it_refuses_an_archived_campaign(manager_client, source):
    source.campaign.refresh_status()
    source.campaign.archive()
    for response in (
        manager_client.get(url_of(source)),
        manager_client.post(url_of(source), sms_form(outcomes=["no_answer"])),
    ):
        assert response.status_code == 409
        assert "archived" in response.content.decode()
    assert not Channel.objects.exclude(pk=source.pk).exists()


def test_it_validates_the_new_channel_like_any_other(manager_client, source):
    form = sms_form(outcomes=["no_answer"], sms_template="Hi {first name}", max_per_second="0")
    response = manager_client.post(url_of(source), form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown placeholder" in html
    assert "Allow at least one contact per second." in html
    assert Channel.objects.count() == 1


def test_it_asks_for_the_new_channel_as_the_channel_form_does(manager_client, source):
    html = manager_client.get(url_of(source)).content.decode()
    assert 'name="max_per_second" value="10" min="1"' in html
    assert '<option value="">' not in html  # a kind is always chosen, as on the channel form


def test_it_needs_an_outcome_with_contacts(manager_client, source):
    response = manager_client.post(url_of(source), sms_form(outcomes=["busy"]))
    assert response.status_code == 200
    assert "No contact has these outcomes" in response.content.decode()
    response = manager_client.post(url_of(source), sms_form())
    assert "This field is required." in response.content.decode()
    assert Channel.objects.count() == 1


def test_it_refuses_viewers(viewer_client, source):
    assert viewer_client.get(url_of(source)).status_code == 403
    assert viewer_client.post(url_of(source), sms_form(outcomes=["no_answer"])).status_code == 403
    assert Channel.objects.count() == 1


def test_it_answers_404_for_a_missing_channel(manager_client):
    assert manager_client.get("/channels/999999/remarket/").status_code == 404


def test_it_refuses_other_methods(manager_client, source):
    assert manager_client.put(url_of(source)).status_code == 405
