import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import Preferences

# The zone is kept in the session: the live partial, polled every two seconds by everyone
# watching a campaign, reads no row for it. Read once per session, and written again by the
# preferences page; a change made in the admin applies at that person's next sign-in.
SESSION_KEY = "herald_timezone"


def remember_zone(request: HttpRequest, name: str) -> None:
    request.session[SESSION_KEY] = name


class TimezoneMiddleware:
    """Shows every page in the signed-in person's zone (their preferences, else TIME_ZONE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            name = request.session.get(SESSION_KEY)
            if name is None:
                name = Preferences.zone_name_for(request.user)
                remember_zone(request, name)
            timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
