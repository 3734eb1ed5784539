"""A claimed batch carries its content unrendered: each send renders it when its provider
reads it (issue #13: a batch of 1,000 once held gigabytes of rendered text)."""

import tracemalloc

import pytest

from channels import content, dispatch
from channels.content import LazyContent, content_for, row_for
from channels.models import Channel
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory
from tests.providers import RecordingProvider

pytestmark = pytest.mark.django_db

BODY_LIMIT = Channel.CONTENT_MAX_LENGTHS["email_body"]


def email_channel(size: int) -> Channel:
    contact_list = ContactListFactory(size=size)
    # The longest body a channel may have, a placeholder at its end.
    body = "x" * (BODY_LIMIT - len("{first_name}")) + "{first_name}"
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list),
        kind=Channel.Kind.EMAIL,
        email_body=body,
    )
    channel.full_clean()  # within the caps
    channel.start()
    return channel


def test_it_claims_a_batch_without_rendering_it(monkeypatch):
    channel = email_channel(size=300)
    renders = []
    real = content.render_template
    monkeypatch.setattr(
        content, "render_template", lambda text, values: renders.append(1) or real(text, values)
    )
    tracemalloc.start()
    try:
        claim = dispatch.claim_batch(
            channel_id=channel.pk, generation=channel.dispatch_generation, limit=300
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(claim.to_send) == 300
    assert renders == []
    # 300 rendered bodies would be 30 MB; the claim holds a fraction of one.
    assert peak < BODY_LIMIT * 30
    message = claim.to_send[0]
    assert isinstance(message.content, LazyContent)
    body = message.content["body"]
    assert len(renders) == 1  # only what was read
    assert body.endswith(message.content["to_name"].split(" ")[0])
    assert len(body) > BODY_LIMIT - 20


def test_it_reads_as_the_content_rendered_at_once():
    ada = ContactFactory(name="Ada Lovelace", attributes={"city": "London"})
    for kind in Channel.Kind:
        channel = ChannelFactory(
            kind=kind,
            voice_script="Hi {first_name} in {city}",
            sms_template="Hi {first_name} in {city}",
            email_body="<p>Dear {name} of {city}</p>",
        )
        lazy = LazyContent(channel, row_for(ada))
        assert dict(lazy) == content_for(channel, row_for(ada)), kind
        assert len(lazy) == len(content_for(channel, row_for(ada)))


def test_it_hands_the_provider_content_it_can_read(fast_engine, use_provider):
    use_provider("tests.providers.RecordingProvider")
    RecordingProvider.reset()
    channel = email_channel(size=3)
    dispatch.run_until_idle(channel_id=channel.pk)
    assert len(RecordingProvider.sent) == 3
    for message in RecordingProvider.sent:
        assert message.content["subject"].startswith("News for ")
        assert message.content["body_format"] == "text"
