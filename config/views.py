"""The health check and the error pages: views that must answer when the database cannot."""

import logging
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger("herald")

# Errors that mean "the database did not answer" (refused, dropped, timed out, locked), as
# opposed to a bug in a query (ProgrammingError, IntegrityError), which stays a 500.
UNAVAILABLE = (OperationalError, InterfaceError)


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        # The detail names hosts and ports: it goes to the log, not to whoever asks.
        logger.warning("Health check: database unavailable: %s", error)
        return JsonResponse(
            {"status": "unavailable", "reason": f"database unreachable ({type(error).__name__})"},
            status=503,
        )
    return JsonResponse({"status": "ok"})


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, but a database that does not answer is a 503 that says so."""
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        page = render_to_string("503.html")
        return HttpResponse(page, status=503, headers={"Retry-After": "30"})
    return defaults.server_error(request)


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: a page that says what happened, 429."""
    from django.shortcuts import render

    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "registration/locked_out.html", context, status=429)
