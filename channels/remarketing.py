"""Remarketing: a follow-up channel whose audience is chosen from a finished channel's results.

The audience is frozen at creation: `AudienceMember` rows copied from the source's ledger
(and, for "not reached", from its audience) by INSERT … SELECT, so a million contacts never
pass through Python and later changes to the source's ledger cannot reach the follow-up.
Opted-out contacts are copied like any other; the engine skips them when the follow-up
runs, as it does for every channel.
"""

from __future__ import annotations

from django.db import connection, models, transaction

from .figures import outcome_label
from .models import AudienceMember, Channel, Delivery, InvalidTransition
from .supervisor import unreached_audience

# SPEC 5: audience contacts a stopped run never got to, and those whose send was
# interrupted (neither was ever reached by a provider).
NOT_REACHED = "not_reached"
# Choices without a provider outcome -> the ledger states they pick.
STATE_CHOICES = {
    NOT_REACHED: (Delivery.State.INTERRUPTED,),
    Delivery.State.SKIPPED: (Delivery.State.SKIPPED,),
}
NOT_FINISHED_MESSAGE = "Only a completed or stopped channel can be remarketed; this one is {}."


def outcome_choices(*, channel: Channel) -> list[str]:
    """What a follow-up can be chosen by: the kind's outcomes, then the outcome-less choices."""
    return [*Channel.OUTCOMES[channel.kind], *STATE_CHOICES]


def choice_for_state(state: str) -> str:
    """The outcome-less choice a ledger state belongs to, or ""."""
    return next((key for key, states in STATE_CHOICES.items() if state in states), "")


def audience_counts(*, channel: Channel) -> dict[str, dict[str, int]]:
    """choice -> {"all": n, "unconverted": n}, from one grouped query over the ledger."""
    rows = (
        Delivery.objects.filter(channel=channel)
        .values_list("state", "outcome")
        .annotate(
            n=models.Count("*"), unconverted=models.Count("id", filter=models.Q(converted=False))
        )
        .order_by()
    )
    counts = {choice: {"all": 0, "unconverted": 0} for choice in outcome_choices(channel=channel)}
    for state, outcome, n, unconverted in rows:
        if key := outcome or choice_for_state(state):
            entry = counts.setdefault(key, {"all": 0, "unconverted": 0})
            entry["all"] += n
            entry["unconverted"] += unconverted
    # Never handed to a provider, so never converted.
    never_delivered = unreached_audience(channel).count() if channel.started_at else 0
    counts[NOT_REACHED]["all"] += never_delivered
    counts[NOT_REACHED]["unconverted"] += never_delivered
    return counts


def chosen_deliveries(
    *, source: Channel, outcomes: list[str], unconverted_only: bool
) -> models.QuerySet:
    states = [state for choice in outcomes for state in STATE_CHOICES.get(choice, ())]
    answered = [choice for choice in outcomes if choice not in STATE_CHOICES]
    picked = models.Q(outcome__in=answered) | models.Q(outcome="", state__in=states)
    deliveries = Delivery.objects.filter(picked, channel=source)
    return deliveries.filter(converted=False) if unconverted_only else deliveries


def refusal(*, source: Channel) -> str:
    """Why `source` cannot be remarketed now, or ""."""
    if source.campaign.is_archived:
        return source.campaign.ARCHIVED_MESSAGE
    if not source.is_finished:
        return NOT_FINISHED_MESSAGE.format(source.get_status_display().lower())
    return ""


def create_follow_up(
    *, source: Channel, channel: Channel, outcomes: list[str], unconverted_only: bool, by=None
) -> Channel:
    """Save `channel` (validated, unsaved) as a Ready follow-up of `source`, audience frozen."""
    from campaigns.models import Campaign

    with transaction.atomic():
        # Campaign, then channel: the lock order of every transition.
        campaign = Campaign.objects.lock_for_change(source.campaign_id)
        locked = Channel.objects.select_for_update(no_key=True).get(pk=source.pk)
        locked.campaign = campaign
        if message := refusal(source=locked):
            raise InvalidTransition(message)
        channel.source_channel = locked
        channel.source_outcomes = list(outcomes)
        channel.source_unconverted_only = unconverted_only
        deliveries = chosen_deliveries(
            source=locked, outcomes=outcomes, unconverted_only=unconverted_only
        )
        # Contacts without a delivery: none of them is in `deliveries`, so no overlap.
        never_delivered = (
            unreached_audience(locked) if NOT_REACHED in outcomes and locked.started_at else None
        )
        # Counted under both locks: nothing can change these rows before they are copied.
        channel.audience_size = deliveries.count() + (
            never_delivered.count() if never_delivered is not None else 0
        )
        campaign.add_channel(
            channel,
            by=by,
            action="remarket",
            message=f"{describe_follow_up(channel=channel)} · {channel.audience_size} contacts",
        )
        copy_audience(channel=channel, rows=deliveries)
        if never_delivered is not None:
            copy_audience(channel=channel, rows=never_delivered)
    return channel


def copy_audience(*, channel: Channel, rows: models.QuerySet) -> int:
    """INSERT … SELECT the rows' `contact_id`s as the channel's audience; return how many.

    `rows`: deliveries, memberships or audience members (each has a `contact_id`)."""
    select = (
        rows.order_by("id")
        # Both columns as annotations, in this order: the SELECT lists them as annotated.
        .annotate(
            new_channel=models.Value(channel.pk, output_field=models.BigIntegerField()),
            member=models.F("contact_id"),
        )
        .values_list("new_channel", "member")
    )
    sql, params = select.query.sql_with_params()
    table = AudienceMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (channel_id, contact_id) {sql}", params)  # noqa: S608
        return cursor.rowcount


def describe_follow_up(*, channel: Channel) -> str:
    """“Follow-up of “Spring calls” (AI Voice) · no answer, voicemail” for a remarketing
    channel, else ""."""
    if not channel.is_remarketing:
        return ""
    source = channel.source_channel
    parts = [
        f"Follow-up of “{source.name}” ({source.get_kind_display()})" if source else "Follow-up"
    ]
    if channel.source_outcomes:
        parts.append(", ".join(outcome_label(o).lower() for o in channel.source_outcomes))
    if channel.source_unconverted_only:
        parts.append("not converted")
    return " · ".join(parts)
