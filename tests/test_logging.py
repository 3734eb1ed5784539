"""The log of `make run`: every line once, and no traceback for a refused request."""

import logging

import pytest
from django.urls import reverse

from tests.factories import CampaignFactory


def handlers_reached(name: str) -> list[logging.Handler]:
    """The handlers a record logged on `name` goes through (pytest's own left out)."""
    found, logger = [], logging.getLogger(name)
    while logger:
        found += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    return found


@pytest.mark.parametrize(
    "name",
    [
        "django.tasks",  # the worker's "Task … state=RUNNING" lines
        "django.utils.autoreload",  # "Watching for file changes"
        "django.request",
        "django_tasks_db",
        "herald.dispatch",
    ],
)
def test_it_prints_every_line_once(name):
    assert len(handlers_reached(name)) == 1


@pytest.mark.django_db
def test_it_logs_a_403_without_its_traceback(viewer_client, caplog):
    campaign = CampaignFactory()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = viewer_client.get(reverse("campaigns:edit", args=[campaign.pk]))
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.status_code == 403 and "Forbidden" in record.getMessage()
    assert record.exc_info is None
