"""Adding, editing and removing a campaign's channels (SPEC section 2 and 3).

Each function takes the campaign lock and then the channel lock, in the order every
transition takes them, so an edit can never interleave with a start of the same channel.
Adding or removing a channel can change the campaign's derived status (a Completed campaign
with a new Ready channel is Active again), so each recomputes it in the same transaction.
"""

from __future__ import annotations

from django.db import transaction

from campaigns.models import ActivityEvent, Campaign

from .models import Channel, InvalidTransition


def add_channel(*, campaign: Campaign, channel: Channel, by) -> Channel:
    with transaction.atomic():
        channel.campaign = campaign
        channel.created_by = by if getattr(by, "is_authenticated", False) else None
        # Saving a new channel locks the campaign, refuses an archived one and recomputes
        # the campaign's status (Channel.save).
        channel.save()
        ActivityEvent.record(
            actor=by, action="add", campaign=campaign, channel=channel, to_status=channel.status
        )
    campaign.refresh_from_db(fields=["status"])
    return channel


def update_channel(*, channel: Channel, by, fields: list[str]) -> Channel:
    """Save the edited `fields` of `channel` if its current status still allows editing."""
    with transaction.atomic():
        Campaign.objects.select_for_update().get(pk=channel.campaign_id)
        current = Channel.objects.select_for_update().get(pk=channel.pk)
        if not current.is_editable:
            raise InvalidTransition(
                f"A {current.get_status_display().lower()} channel cannot be edited."
            )
        if "kind" in fields and current.status != Channel.Status.READY:
            raise InvalidTransition("Only a ready channel can change its kind.")
        channel.save(update_fields=fields)
        ActivityEvent.record(actor=by, action="edit", campaign=channel.campaign, channel=channel)
    return channel


def remove_channel(*, channel: Channel, by) -> None:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=channel.campaign_id)
        removed, _ = Channel.objects.filter(pk=channel.pk, status=Channel.Status.READY).delete()
        if not removed:
            raise InvalidTransition("Only a ready channel can be removed.")
        campaign.refresh_status()
        ActivityEvent.record(
            actor=by,
            action="remove",
            campaign=campaign,
            subject=f"channel “{channel.name}”",
            from_status=Channel.Status.READY,
        )
