"""Editing a channel's content and pacing (SPEC section 2).

The edit takes the campaign lock and then the channel lock, in the order every transition
takes them, so an edit can never interleave with a start of the same channel. Adding and
removing a channel are `campaign.add_channel()` and `channel.remove()`.
"""

from __future__ import annotations

from django.db import transaction

from campaigns.models import ActivityEvent, Campaign

from .models import Channel, InvalidTransition


def update_channel(*, channel: Channel, by, fields: list[str]) -> Channel:
    """Save the edited `fields` of `channel` if its current status still allows editing."""
    with transaction.atomic():
        Campaign.objects.lock(channel.campaign_id)
        current = Channel.objects.select_for_update(no_key=True).get(pk=channel.pk)
        if refusal := current.edit_refusal():
            raise InvalidTransition(refusal)
        if "kind" in fields and current.status != Channel.Status.READY:
            raise InvalidTransition("Only a ready channel can change its kind.")
        channel.save(update_fields=fields)
        ActivityEvent.record(actor=by, action="edit", campaign=channel.campaign, channel=channel)
    return channel
