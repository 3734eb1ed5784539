from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.command_center import get_campaign_for_user, render_live

from . import editing
from .forms import ChannelForm
from .models import AlreadyDone, Channel, InvalidTransition
from .send_test import SendTestForm, SendTestResult, form_errors, send_test

OPERATE = "channels.operate_channel"
DONE_MESSAGES = {
    "start": "“{name}” started.",
    "pause": "“{name}” paused. Contacts already in flight will finish.",
    "resume": "“{name}” resumed.",
    "stop": "“{name}” stopped. Its results are kept.",
}


def get_channel_for_user(request: HttpRequest, pk: int, *, perm: str) -> Channel:
    if not request.user.has_perm(perm):
        raise PermissionDenied
    queryset = Channel.objects.select_related(
        "campaign__contact_list", "campaign__created_by", "source_channel"
    )
    return get_object_or_404(queryset, pk=pk)


def operate(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Run one lifecycle action; already done is a no-op with a message, impossible a 409."""
    channel = get_channel_for_user(request, pk, perm=OPERATE)
    try:
        getattr(channel, action)(by=request.user)
    except AlreadyDone as exc:
        messages.info(request, str(exc))
    except InvalidTransition as exc:
        return render_live(
            request, channel.campaign, status=409, error_channel=channel.pk, error=str(exc)
        )
    else:
        messages.success(request, DONE_MESSAGES[action].format(name=channel.name))
    return render_live(request, channel.campaign)


@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    return operate(request, pk, "start")


@require_POST
def pause(request: HttpRequest, pk: int) -> HttpResponse:
    return operate(request, pk, "pause")


@require_POST
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    return operate(request, pk, "resume")


@require_http_methods(["GET", "POST"])
def stop(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for the confirmation (stopping is permanent); POST stops."""
    if request.method == "POST":
        return operate(request, pk, "stop")
    channel = get_channel_for_user(request, pk, perm=OPERATE)
    return render(request, "channels/stop.html", {"channel": channel})


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, pk, perm="channels.add_channel")
    form = ChannelForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "campaign": campaign, "test_form": test_form_for(campaign)}
    try:
        campaign.refuse_if_archived()
        if form.is_valid():
            # The model refuses again under the lock: the campaign may be archived by now.
            channel = campaign.add_channel(form.instance, by=request.user)
            messages.success(request, f"Channel “{channel.name}” added; it is ready to start.")
            return redirect(campaign)
    except InvalidTransition as exc:
        return refuse(request, "channels/form.html", context, str(exc))
    return render(request, "channels/form.html", context)


def refuse(request: HttpRequest, template: str, context: dict, message: str) -> HttpResponse:
    return render(request, template, {**context, "refusal": message}, status=409)


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_channel_for_user(request, pk, perm="channels.change_channel")
    form = ChannelForm(request.POST if request.method == "POST" else None, instance=channel)
    context = {
        "form": form,
        "campaign": channel.campaign,
        "channel": channel,
        "test_form": test_form_for(channel.campaign),
    }
    if refusal := channel.edit_refusal():
        return refuse(request, "channels/form.html", context, refusal)
    if form.is_valid():
        try:
            editing.update_channel(
                channel=form.instance, by=request.user, fields=form.changed_data
            )
        except InvalidTransition as exc:
            return refuse(request, "channels/form.html", context, str(exc))
        messages.success(request, f"Channel “{channel.name}” saved.")
        return redirect(channel.campaign)
    return render(request, "channels/form.html", context)


@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for the confirmation; POST removes a ready channel."""
    channel = get_channel_for_user(request, pk, perm="channels.delete_channel")
    if request.method == "GET":
        return render(request, "channels/remove.html", {"channel": channel})
    try:
        channel.remove(by=request.user)
    except InvalidTransition as exc:
        return refuse(request, "channels/remove.html", {"channel": channel}, str(exc))
    messages.success(request, f"Channel “{channel.name}” removed.")
    return redirect(channel.campaign)


# -- test send (SPEC 4a): the form's content, as it stands, to an address typed -------------


def test_form_for(campaign, data=None, *, kind: str | None = None) -> SendTestForm:
    return SendTestForm(data, contact_list=campaign.contact_list, kind=kind)


def run_test_send(request: HttpRequest, form: ChannelForm, context: dict) -> HttpResponse:
    """Validate the channel form and the test send's; send only if both are valid."""
    valid = form.is_valid()
    kind = form.instance.kind if valid else None
    test_form = test_form_for(context["campaign"], request.POST, kind=kind)
    if valid and test_form.is_valid():
        data = test_form.cleaned_data
        result = send_test(
            channel=form.instance, contact=data["contact"], to=data["to"], by=request.user
        )
        status = 200
    else:
        result = SendTestResult(False, form_errors(form, test_form))
        status = 400
    context = {**context, "form": form, "test_form": test_form, "test_result": result}
    # htmx swaps the result line in; without JavaScript the whole form comes back with it.
    partial = "channels/_test_send.html#test-send-result"
    template = partial if request.htmx else "channels/form.html"
    return render(request, template, context, status=status)


@require_POST
def test_send(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_channel_for_user(request, pk, perm="channels.change_channel")
    form = ChannelForm(request.POST, instance=channel)
    return run_test_send(request, form, {"campaign": channel.campaign, "channel": channel})


@require_POST
def test_send_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A test send from the form that adds a channel (nothing is added)."""
    campaign = get_campaign_for_user(request, pk, perm="channels.add_channel")
    return run_test_send(request, ChannelForm(request.POST), {"campaign": campaign})
