from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.command_center import get_campaign_for_user, render_live

from . import content_tools, editing
from .content_tools import ContactPickerForm
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
            warn_of_placeholders(request, channel)
            return redirect(campaign)
    except InvalidTransition as exc:
        return refuse(request, "channels/form.html", context, str(exc))
    return form_page(request, context)


def refuse(request: HttpRequest, template: str, context: dict, message: str) -> HttpResponse:
    return render(request, template, {**context, "refusal": message}, status=409)


def form_page(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    """The channel form with its content tools, for the contact its test form picked."""
    tools = content_tools.tools_context(form=context["form"], picker=context["test_form"])
    return render(request, "channels/form.html", {**context, **tools}, status=status)


def warn_of_placeholders(request: HttpRequest, channel: Channel) -> None:
    """Saved content with a placeholder no contact has says so (it is not refused: the
    list may yet be given that field)."""
    known = content_tools.list_placeholders(channel.campaign.contact_list)
    texts = [getattr(channel, name) for name in Channel.REQUIRED_CONTENT[channel.kind]]
    for warning in content_tools.placeholder_notes(texts, known)[0]:
        messages.warning(request, warning)


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
        warn_of_placeholders(request, channel)
        return redirect(channel.campaign)
    return form_page(request, context)


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


def test_form_for(campaign, data=None, *, kind: str | None = None, **kwargs) -> SendTestForm:
    return SendTestForm(data, contact_list=campaign.contact_list, kind=kind, **kwargs)


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
    if request.htmx:
        partial = "channels/_content_tools.html#test-send-result"
        return render(request, partial, context, status=status)
    return form_page(request, context, status=status)


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


# -- preview (SPEC 5): the form's content, as it stands, for a contact of the list ---------


def run_preview(request: HttpRequest, form: ChannelForm, context: dict) -> HttpResponse:
    """Render the content tools for the contact picked; a pick that matches nobody is a 400.

    A POST, though it changes nothing: the content travels with it, and an email body may
    be 100,000 characters, more than a URL carries.
    """
    picker = ContactPickerForm(request.POST, contact_list=context["campaign"].contact_list)
    status = 200 if picker.is_valid() else 400
    tools = content_tools.tools_context(form=form, picker=picker)
    if request.htmx:
        context = {**context, **tools, "picker_errors": picker.errors}
        return render(request, "channels/_content_tools.html#preview", context, status=status)
    # Without JavaScript the whole form comes back, the picker as it was chosen.
    picked = {name: picker.data.get(picker.add_prefix(name)) for name in ("contact", "lookup")}
    test_form = test_form_for(context["campaign"], initial=picked)
    context = {**context, "form": form, "test_form": test_form, "picker_errors": picker.errors}
    return render(request, "channels/form.html", {**context, **tools}, status=status)


@require_POST
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_channel_for_user(request, pk, perm="channels.change_channel")
    context = {"campaign": channel.campaign, "channel": channel}
    if refusal := channel.edit_refusal():
        return refuse_preview(request, context, refusal)
    return run_preview(request, ChannelForm(request.POST, instance=channel), context)


@require_POST
def preview_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview on the form that adds a channel (nothing is added)."""
    campaign = get_campaign_for_user(request, pk, perm="channels.add_channel")
    try:
        campaign.refuse_if_archived()
    except InvalidTransition as exc:
        return refuse_preview(request, {"campaign": campaign}, str(exc))
    return run_preview(request, ChannelForm(request.POST), {"campaign": campaign})


def refuse_preview(request: HttpRequest, context: dict, message: str) -> HttpResponse:
    if request.htmx:
        context = {**context, "refusal": message}
        return render(request, "channels/_content_tools.html#preview", context, status=409)
    return refuse(request, "channels/form.html", context, message)
