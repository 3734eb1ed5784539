"""Random action sequences over one campaign: its stored status always obeys SPEC section 3."""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from campaigns.models import Campaign
from channels.models import Channel, InvalidTransition
from tests.factories import CampaignFactory, ChannelFactory, ContactListFactory, UserFactory

KINDS = ["ai_voice", "sms", "email"]
ACTIONS = ["start", "pause", "resume", "stop", "complete"]
# SPEC section 2, written out here rather than read from Channel.TRANSITIONS.
TABLE = {
    ("ready", "start"): "running",
    ("running", "pause"): "paused",
    ("paused", "resume"): "running",
    ("running", "stop"): "stopped",
    ("paused", "stop"): "stopped",
    ("running", "complete"): "completed",
}
REACHABLE = {"ready", *TABLE.values()}


def spec_campaign_status(*, archived: bool, channel_statuses: list[str]) -> str:
    """SPEC section 3 from scratch, in its order."""
    if archived:
        return "archived"
    if any(status in ("running", "paused") for status in channel_statuses):
        return "active"
    if all(status == "ready" for status in channel_statuses):
        return "draft"
    if all(status in ("completed", "stopped") for status in channel_statuses):
        return "completed"
    return "active"


class CampaignMachine(RuleBasedStateMachine):
    """The test's own model of one campaign, checked against the database after every step."""

    @initialize(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    def make_campaign(self, kinds):
        self.user = UserFactory()
        self.campaign = CampaignFactory(contact_list=ContactListFactory(size=2))
        self.channels = [ChannelFactory(campaign=self.campaign, kind=kind) for kind in kinds]
        self.expected = {channel.pk: "ready" for channel in self.channels}
        self.archived = False

    def expected_campaign_status(self) -> str:
        return spec_campaign_status(
            archived=self.archived, channel_statuses=list(self.expected.values())
        )

    @rule(index=st.integers(0, 3), action=st.sampled_from(ACTIONS))
    def act_on_a_channel(self, index, action):
        channel = self.channels[index % len(self.channels)]
        target = TABLE.get((self.expected[channel.pk], action))
        allowed = target is not None and not self.archived
        by = None if action == "complete" else self.user
        try:
            getattr(channel, action)(by=by)
        except InvalidTransition:
            assert not allowed, f"{action} was refused from {self.expected[channel.pk]}"
        else:
            assert allowed, f"{action} was allowed from {self.expected[channel.pk]}"
            self.expected[channel.pk] = target

    @rule()
    def archive(self):
        allowed = self.expected_campaign_status() == "completed"
        try:
            self.campaign.archive(by=self.user)
        except InvalidTransition:
            assert not allowed
        else:
            assert allowed
            self.archived = True

    @rule()
    def unarchive(self):
        allowed = self.archived
        try:
            self.campaign.unarchive(by=self.user)
        except InvalidTransition:
            assert not allowed
        else:
            assert allowed
            self.archived = False

    @precondition(lambda self: len(self.channels) < 4)
    @rule(kind=st.sampled_from(KINDS))
    def add_a_channel(self, kind):
        # SPEC section 3: a channel can be added unless the campaign is archived.
        try:
            channel = self.campaign.add_channel(
                ChannelFactory.build(campaign=self.campaign, kind=kind), by=self.user
            )
        except InvalidTransition:
            assert self.archived
        else:
            assert not self.archived
            self.channels.append(channel)
            self.expected[channel.pk] = "ready"

    @precondition(lambda self: len(self.channels) > 1)
    @rule(index=st.integers(0, 3))
    def remove_a_ready_channel(self, index):
        # SPEC section 2: only a Ready channel can be removed.
        channel = self.channels[index % len(self.channels)]
        if self.expected[channel.pk] != "ready":
            return
        pk = channel.pk
        channel.remove(by=self.user)
        self.channels.remove(channel)
        del self.expected[pk]

    @invariant()
    def channels_are_where_the_table_put_them(self):
        stored = dict(Channel.objects.filter(campaign=self.campaign).values_list("pk", "status"))
        assert stored == self.expected
        assert set(stored.values()) <= REACHABLE

    @invariant()
    def stored_campaign_status_obeys_the_rule(self):
        campaign = Campaign.objects.get(pk=self.campaign.pk)
        statuses = list(
            Channel.objects.filter(campaign=self.campaign).values_list("status", flat=True)
        )
        from_scratch = spec_campaign_status(
            archived=campaign.archived_at is not None, channel_statuses=statuses
        )
        assert campaign.status == from_scratch
        assert campaign.status == self.expected_campaign_status()


@pytest.mark.django_db
def test_it_keeps_the_stored_campaign_status_equal_to_the_rule():
    run_state_machine_as_test(
        CampaignMachine,
        # max_examples comes from the Hypothesis profile (tests/conftest.py).
        settings=settings(
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
