"""A campaign's channels counted by status, as its header and the list show them."""

from .models import Channel

# Active work first, as the command center reads: “2 running · 1 paused · 1 ready”.
BREAKDOWN_ORDER = (
    Channel.Status.RUNNING,
    Channel.Status.PAUSED,
    Channel.Status.READY,
    Channel.Status.COMPLETED,
    Channel.Status.STOPPED,
)


def status_breakdown(statuses) -> str:
    """Count channel statuses into “2 running · 1 paused · 1 ready”."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return " · ".join(
        f"{counts[status]} {status.label.lower()}"
        for status in BREAKDOWN_ORDER
        if status in counts
    )
