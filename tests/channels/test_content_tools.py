"""The content tools of the channel form (SPEC 5): the preview (`channels:preview`,
`campaigns:preview`) and the placeholders the list's contacts have.

The preview renders the form's content as it stands for a contact of the list and saves
nothing. These run on SQLite and on PostgreSQL (the placeholder counts are one aggregate
over JSON keys on each).
"""

import pytest
from django.core.cache import cache
from django.forms.models import model_to_dict

from channels import content_tools
from channels.models import Channel
from tests.conftest import HTMX, url_for
from tests.factories import (
    CampaignFactory,
    ChannelFactory,
    ContactFactory,
    MembershipFactory,
    put_channel_in,
)

pytestmark = pytest.mark.django_db

preview_url = url_for("channels:preview")
preview_new_url = url_for("campaigns:preview")
edit_url = url_for("channels:edit")


@pytest.fixture(autouse=True)
def empty_cache():
    """The placeholder table is cached per list id; tests reuse ids."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def channel(db):
    channel = ChannelFactory(kind=Channel.Kind.SMS, name="Texts", sms_template="Hi {first_name}")
    for name, attributes in [
        ("Ann Lee", {"city": "Lyon", "plan": "gold"}),
        ("Bob Ray", {"city": "Oslo", "plan": ""}),
        ("Cy", {}),
    ]:
        MembershipFactory(
            contact_list=channel.campaign.contact_list,
            contact=ContactFactory(
                name=name, email=f"{name.split()[0].lower()}@example.org", attributes=attributes
            ),
        )
    return channel


def form_data(channel: Channel, **changes) -> dict:
    data = {
        "kind": channel.kind,
        "name": channel.name,
        "sms_template": channel.sms_template,
        "email_subject": channel.email_subject,
        "email_body": channel.email_body,
        "voice_script": channel.voice_script,
        "max_per_second": channel.max_per_second,
    }
    return {**data, **changes}


def row(channel: Channel) -> dict:
    return model_to_dict(Channel.objects.get(pk=channel.pk))


def test_it_previews_the_unsaved_content_for_the_contact_chosen(manager_client, channel):
    before = row(channel)
    bob = channel.campaign.contact_list.contacts.get(name="Bob Ray")
    data = form_data(
        channel, sms_template="Hello {first_name} in {city}", **{"test-contact": bob.pk}
    )
    response = manager_client.post(preview_url(channel), data, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello Bob in Oslo" in html
    assert "As <strong>Bob Ray</strong> gets it" in html
    assert "17 characters · 1 segment (GSM-7)" in html
    assert "<form" not in html  # the partial, not the page
    assert row(channel) == before  # nothing saved


def test_it_previews_for_the_list_s_first_contact_by_default(manager_client, channel):
    response = manager_client.post(preview_url(channel), form_data(channel), headers=HTMX)
    assert "Hi Ann" in response.content.decode()


def test_it_finds_a_contact_by_email(manager_client, channel):
    data = form_data(channel, **{"test-lookup": "CY@example.org"})
    response = manager_client.post(preview_url(channel), data, headers=HTMX)
    assert response.status_code == 200
    assert "As <strong>Cy</strong> gets it" in response.content.decode()


def test_it_gives_a_contact_without_a_value_the_fallback(manager_client, channel):
    cy = channel.campaign.contact_list.contacts.get(name="Cy")
    data = form_data(
        channel,
        sms_template="Hi {first_name}, news from {city|your city}. {plan|}",
        **{"test-contact": cy.pk},
    )
    response = manager_client.post(preview_url(channel), data, headers=HTMX)
    assert "Hi Cy, news from your city. </pre>" in response.content.decode()


def test_it_escapes_the_contact_s_data(manager_client, channel):
    evil = ContactFactory(name="<script>alert(1)</script> Evil", attributes={"city": "<b>x</b>"})
    MembershipFactory(contact_list=channel.campaign.contact_list, contact=evil)
    data = form_data(channel, sms_template="{name} {city}", **{"test-contact": evil.pk})
    html = manager_client.post(preview_url(channel), data, headers=HTMX).content.decode()
    assert "<script>alert" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Evil &lt;b&gt;x&lt;/b&gt;" in html


def test_it_warns_of_a_placeholder_no_contact_has(manager_client, channel):
    data = form_data(channel, sms_template="Hi {frist_name}")
    html = manager_client.post(preview_url(channel), data, headers=HTMX).content.decode()
    assert (
        "No contact of the list has {frist_name}: it is left empty for everyone. "
        "Did you mean {first_name}?"
    ) in html
    data = form_data(channel, sms_template="Hi {nickname|friend}")
    html = manager_client.post(preview_url(channel), data, headers=HTMX).content.decode()
    assert "No contact of the list has {nickname}: it gets “friend” for everyone." in html


def test_it_notes_contacts_lacking_a_placeholder_without_a_default(manager_client, channel):
    data = form_data(channel, sms_template="{city} {plan|basic} {first_name}")
    html = manager_client.post(preview_url(channel), data, headers=HTMX).content.decode()
    assert "1 of 3 contacts have no {city}; it is left empty for them." in html
    assert "{plan}" not in html.split("placeholder-notes")[-1]  # it has a default
    assert "{first_name}" not in html.split("placeholder-notes")[-1]  # every contact has it


def test_it_counts_segments_and_warns_of_ucs2(manager_client, channel):
    data = form_data(channel, sms_template="It’s {first_name}! " + "x" * 150)
    html = manager_client.post(preview_url(channel), data, headers=HTMX).content.decode()
    assert "160 characters · 3 segments (UCS-2)" in html
    assert "’ is not in the GSM-7 set" in html


def test_it_shows_the_content_s_errors_as_one_types(manager_client, channel):
    data = form_data(channel, sms_template="x" * 1601)
    html = manager_client.post(preview_url(channel), data, headers=HTMX).content.decode()
    assert (
        "A text can be at most 1,600 characters (Twilio&#x27;s limit); this template has "
        "1,601 characters · 11 segments (GSM-7)."
    ) in html
    data = form_data(channel, sms_template="Hi {first name}")
    html = manager_client.post(preview_url(channel), data, headers=HTMX).content.decode()
    assert "Unknown placeholder {first name}" in html


def test_it_previews_an_email_s_subject_and_body(manager_client, channel):
    data = form_data(
        channel, kind="email", email_subject="For {first_name}", email_body="<p>Dear {name}</p>"
    )
    html = manager_client.post(preview_url(channel), data, headers=HTMX).content.decode()
    assert "<span data-preview-subject>For Ann</span>" in html
    assert "&lt;p&gt;Dear Ann Lee&lt;/p&gt;" in html
    assert "An HTML body, shown as its source." in html


def test_it_previews_a_new_channel(manager_client, channel):
    data = form_data(channel, name="", voice_script="Hello {first_name}", kind="ai_voice")
    response = manager_client.post(preview_new_url(channel.campaign), data, headers=HTMX)
    assert response.status_code == 200
    assert "Hello Ann" in response.content.decode()
    assert channel.campaign.channels.count() == 1  # nothing added


def test_it_answers_the_whole_form_without_javascript(manager_client, channel):
    bob = channel.campaign.contact_list.contacts.get(name="Bob Ray")
    data = form_data(channel, sms_template="Yo {first_name}", **{"test-contact": bob.pk})
    response = manager_client.post(preview_url(channel), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Yo Bob" in html
    assert 'class="stack channel-form"' in html
    assert f'<option value="{bob.pk}" selected>' in html  # the picker keeps the choice
    assert "Yo {first_name}</textarea>" in html  # and the form what was typed


def test_it_refuses_a_contact_not_in_the_list_with_400(manager_client, channel):
    stranger = ContactFactory(email="stranger@example.org")
    data = form_data(channel, **{"test-lookup": stranger.email})
    response = manager_client.post(preview_url(channel), data, headers=HTMX)
    assert response.status_code == 400
    assert "No contact of the campaign&#x27;s list matches." in response.content.decode()


def test_it_refuses_a_viewer_with_403(viewer_client, channel):
    assert viewer_client.post(preview_url(channel), form_data(channel)).status_code == 403
    assert viewer_client.post(preview_new_url(channel.campaign), {}).status_code == 403


def test_it_answers_404_for_a_missing_channel_or_campaign(manager_client):
    assert manager_client.post(preview_url(999_999), {}).status_code == 404
    assert manager_client.post(preview_new_url(999_999), {}).status_code == 404


def test_it_answers_get_with_405(manager_client, channel):
    assert manager_client.get(preview_url(channel)).status_code == 405
    assert manager_client.get(preview_new_url(channel.campaign)).status_code == 405


def test_it_refuses_a_channel_that_cannot_be_edited_with_409(manager_client, channel):
    put_channel_in(channel, Channel.Status.RUNNING)
    response = manager_client.post(preview_url(channel), form_data(channel), headers=HTMX)
    assert response.status_code == 409
    assert "A running channel cannot be edited: pause it first" in response.content.decode()


def test_it_refuses_a_new_channel_in_an_archived_campaign_with_409(manager_client, manager):
    campaign = CampaignFactory()
    put_channel_in(ChannelFactory(campaign=campaign), Channel.Status.COMPLETED)
    campaign.refresh_status()
    campaign.archive(by=manager)
    response = manager_client.post(preview_new_url(campaign), {"kind": "sms"}, headers=HTMX)
    assert response.status_code == 409
    assert campaign.ARCHIVED_MESSAGE in response.content.decode()


def test_the_form_lists_the_placeholders_the_contacts_have(manager_client, channel):
    html = manager_client.get(edit_url(channel)).content.decode()
    for name, having, lacking in [("first_name", 3, 0), ("last_name", 2, 1), ("city", 2, 1)]:
        assert (
            f'<tr data-placeholder="{name}"><th scope="row"><code>&#123;{name}&#125;</code></th>'
            f'<td class="num">{having}</td><td class="num">{lacking}</td></tr>'
        ) in html
    # "plan" is empty for Bob: one contact has it.
    assert '<tr data-placeholder="plan">' in html and '<td class="num">1</td>' in html
    assert "Hi Ann" in html  # the preview, before any typing
    assert "6 characters · 1 segment (GSM-7)" in html  # the counter's first value


def test_saving_content_with_a_placeholder_nobody_has_warns(manager_client, channel):
    response = manager_client.post(
        edit_url(channel), form_data(channel, sms_template="Hi {frist_name}"), follow=True
    )
    assert "No contact of the list has {frist_name}" in response.content.decode()
    channel.refresh_from_db()
    assert channel.sms_template == "Hi {frist_name}"  # a warning, not a refusal


# -- the placeholder table itself -------------------------------------------------------


def test_it_counts_in_two_aggregate_queries_and_skips_odd_attributes(
    channel, django_assert_num_queries
):
    odd = ContactFactory(name="Odd", attributes=["not", "an", "object"])
    MembershipFactory(contact_list=channel.campaign.contact_list, contact=odd)
    channel.campaign.contact_list.refresh_from_db()
    with django_assert_num_queries(2):  # the contact fields, the attributes
        known = content_tools.read_list_placeholders(channel.campaign.contact_list)
    assert (known.read, known.size, known.sampled) == (4, 4, False)
    rows = {name: (having, lacking) for name, having, lacking in known.rows()}
    assert rows["city"] == (2, 2)
    assert rows["plan"] == (1, 3)
    assert rows["email"] == (4, 0)
    assert rows["timezone"] == (0, 4)


def test_a_large_list_is_read_through_its_first_contacts(channel, monkeypatch):
    monkeypatch.setattr(content_tools, "SAMPLE", 2)
    known = content_tools.read_list_placeholders(channel.campaign.contact_list)
    assert (known.read, known.size, known.sampled) == (2, 3, True)
    assert known.having("city") == 2  # Ann and Bob, the first two
    warnings, _ = content_tools.placeholder_notes(["{zip}"], known)
    assert warnings == ["None of the first 2 contacts has {zip}: it is left empty for everyone."]


def test_an_empty_list_has_nothing_to_preview_or_check(manager_client):
    channel = ChannelFactory(kind=Channel.Kind.SMS, sms_template="Hi {frist_name}")
    response = manager_client.post(preview_url(channel), form_data(channel), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "list has no contacts yet: nothing to preview." in html
    assert "frist_name" not in html
    page = manager_client.get(edit_url(channel)).content.decode()
    assert "Placeholders the list" not in page


def test_a_page_shows_a_content_error_once_by_its_field(manager_client, channel):
    data = form_data(channel, sms_template="Hi {first name}")
    html = manager_client.post(preview_url(channel), data).content.decode()
    assert html.count("Unknown placeholder {first name}") == 1
