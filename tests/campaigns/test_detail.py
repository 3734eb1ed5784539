import pytest
from django.urls import reverse

from campaigns.models import ActivityEvent
from channels.models import Channel
from tests.conftest import url_for
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory


@pytest.fixture
def campaign(manager):
    campaign = CampaignFactory(name="Spring", contact_list=ContactListFactory(size=5))
    ChannelFactory(campaign=campaign, name="Calls", kind=Channel.Kind.AI_VOICE).start(by=manager)
    ChannelFactory(campaign=campaign, name="Texts", kind=Channel.Kind.SMS)
    return campaign


url = url_for("campaigns:detail")


def test_it_shows_the_command_center(manager_client, campaign):
    response = manager_client.get(url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Spring</h1>" in html
    assert 'id="campaign-status">Active</span>' in html
    assert "1 running · 1 ready" in html
    assert html.count('class="card channel-card') == 2
    assert ">Pause<" in html and ">Start<" in html and ">Stop<" in html
    assert 'hx-get="' + reverse("campaigns:live", args=[campaign.pk]) in html


def test_it_shows_only_allowed_buttons_per_status(manager_client, campaign, manager):
    calls = campaign.channels.get(name="Calls")
    calls.pause(by=manager)
    html = manager_client.get(url(campaign)).content.decode()
    card = html.split(f'id="channel-{calls.pk}"')[1].split("</article>")[0]
    assert ">Resume<" in card and ">Stop<" in card
    assert ">Pause<" not in card and ">Start<" not in card
    calls.stop(by=manager)
    html = manager_client.get(url(campaign)).content.decode()
    card = html.split(f'id="channel-{calls.pk}"')[1].split("</article>")[0]
    assert "<button" not in card


def test_it_shows_counts_by_outcome(manager_client, campaign):
    calls = campaign.channels.get(name="Calls")
    Channel.objects.filter(pk=calls.pk).update(
        processed=3, in_flight=1, outcome_counts={"answered": 2, "no_answer": 1}
    )
    html = manager_client.get(url(campaign)).content.decode()
    assert "<dt>Answered</dt><dd>2</dd>" in html
    assert "<dt>No answer</dt><dd>1</dd>" in html
    assert "<dt>In flight</dt><dd data-in-flight>1</dd>" in html
    assert "<strong>3</strong> of 5 processed · 60%" in html


def test_it_shows_the_settings_menu_by_status(manager_client, campaign, manager):
    html = manager_client.get(url(campaign)).content.decode()
    assert ">Edit</a>" in html
    assert ">Archive</button>" not in html  # only a completed campaign can be archived
    assert ">Delete Campaign</a>" not in html  # refused while a channel runs
    for channel in campaign.channels.all():
        if channel.status == Channel.Status.READY:
            channel.start(by=manager)
        channel.stop(by=manager)
    html = manager_client.get(url(campaign)).content.decode()
    assert ">Archive</button>" in html and ">Delete Campaign</a>" in html
    campaign.archive(by=manager)
    html = manager_client.get(url(campaign)).content.decode()
    assert ">Unarchive</button>" in html and ">Archive</button>" not in html
    assert "Add channel" not in html


def test_it_lists_activity_newest_first(manager_client, campaign, manager):
    campaign.channels.get(name="Calls").pause(by=manager)
    html = manager_client.get(url(campaign)).content.decode()
    activity = html.split('id="activity"')[1]
    assert activity.index("paused channel “Calls”") < activity.index("started channel “Calls”")
    assert ActivityEvent.objects.filter(campaign=campaign).count() == 2


def test_it_shows_a_viewer_no_control(viewer_client, campaign):
    response = viewer_client.get(url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    main = html.split("<main")[1].split("</main>")[0]
    assert "<button" not in main
    assert "Settings" not in main
    assert "Add channel" not in main
    assert ">Running<" in main


def test_it_requires_sign_in(client, campaign):
    response = client.get(url(campaign))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_answers_404_for_an_unknown_campaign(manager_client):
    assert manager_client.get(reverse("campaigns:detail", args=[999999])).status_code == 404


def test_it_forbids_a_user_without_a_role(client, campaign):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(url(campaign)).status_code == 403


def test_it_counts_calls_at_once_in_words(manager_client):
    one = ChannelFactory(kind=Channel.Kind.AI_VOICE, max_concurrent=1)
    ChannelFactory(campaign=one.campaign, kind=Channel.Kind.AI_VOICE, max_concurrent=4)
    html = manager_client.get(reverse("campaigns:detail", args=[one.campaign_id])).content
    assert b"1 call at once" in html and b"4 calls at once" in html
    assert b"1 calls at once" not in html
