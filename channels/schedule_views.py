"""A Ready channel's scheduled start, set from its card (SPEC 4b; channels/scheduling.py)."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.command_center import render_live
from campaigns.dates import format_when

from . import scheduling
from .models import AlreadyDone, InvalidTransition
from .views import OPERATE, get_channel_for_user


class ScheduleForm(forms.Form):
    # A naive date and time, read in the zone the request runs in: the manager's.
    start_at = forms.DateTimeField(
        label="Start at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )


@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the form (with the current schedule); POST sets or changes the start time."""
    channel = get_channel_for_user(request, pk, perm=OPERATE)
    at = channel.scheduled_at
    initial = {"start_at": timezone.localtime(at)} if at else {}
    form = ScheduleForm(request.POST if request.method == "POST" else None, initial=initial)
    context = {"channel": channel, "form": form}
    if request.method == "GET":
        status = 200 if channel.status == channel.Status.READY else 409
        return render(request, "channels/schedule.html", context, status=status)
    if not form.is_valid():
        return render(request, "channels/schedule.html", context, status=400)
    try:
        scheduling.schedule(channel, at=form.cleaned_data["start_at"], by=request.user)
    except scheduling.StartInThePast as exc:
        form.add_error("start_at", str(exc))
        return render(request, "channels/schedule.html", context, status=400)
    except InvalidTransition as exc:
        context["refusal"] = str(exc)
        return render(request, "channels/schedule.html", context, status=409)
    at = format_when(channel.scheduled_at)
    zone = timezone.get_current_timezone_name()
    messages.success(request, f"“{channel.name}” will start at {at} ({zone}).")
    return redirect(channel.campaign)


@require_POST
def unschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel the scheduled start, from the card: the live partial comes back."""
    channel = get_channel_for_user(request, pk, perm=OPERATE)
    try:
        scheduling.schedule(channel, at=None, by=request.user)
    except AlreadyDone as exc:
        messages.info(request, str(exc))
    except InvalidTransition as exc:
        return render_live(
            request, channel.campaign, status=409, error_channel=channel.pk, error=str(exc)
        )
    else:
        messages.success(request, f"The scheduled start of “{channel.name}” is cancelled.")
    return render_live(request, channel.campaign)
