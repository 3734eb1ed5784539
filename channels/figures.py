"""What the figures every page shows are made of, and the rules that compute them.

A delivery's ledger states and provider outcomes with their labels (`Delivery.State`,
`Delivery.Outcome`), percent done and rates. A leaf module that the models import, so that
`Channel`, Analytics and the campaign list compute each figure the one same way.
"""

from django.db import models


class State(models.TextChoices):
    """Where one delivery is in the ledger; `Delivery.State`."""

    SENDING = "sending", "Sending"
    ACCEPTED = "accepted", "Accepted"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    INTERRUPTED = "interrupted", "Interrupted"


class Outcome(models.TextChoices):
    """What the provider said about one delivery; `Delivery.Outcome`."""

    ANSWERED = "answered", "Answered"
    VOICEMAIL = "voicemail", "Voicemail"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    BOUNCED = "bounced", "Bounced"
    FAILED = "failed", "Failed"


def outcome_label(key: str) -> str:
    """“No answer” for an outcome, “Skipped” for a ledger state shown among the outcomes."""
    for choices in (Outcome, State):
        if key in choices.values:
            return choices(key).label
    return key.replace("_", " ").capitalize()


def percent_done(done: int, total: int, *, complete: bool) -> int:
    """Whole percent of `total`; an empty run that completed is 100 %, one that did not 0 %."""
    if not total:
        return 100 if complete else 0
    return min(100, done * 100 // total)


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None (shown as "—") while the whole is zero."""
    return part / whole if whole else None
