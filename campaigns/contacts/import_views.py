"""CSV imports: uploading one (into a list, or a new list), following it, its report, and
cancelling or resuming it."""

import csv
import io
from collections.abc import Callable

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from campaigns.exporting import csv_stream
from channels.models import AlreadyDone, InvalidTransition

from . import importing
from .forms import ImportForm, NewListImportForm
from .models import ContactList, ImportJob
from .views import _get_list, _list_page, _require

# What it takes to start, cancel or resume an import: adding contacts to a list.
IMPORT_PERMISSIONS = ("add_contact", "add_membership")


def _get_job(request: HttpRequest, pk: int, *codenames: str) -> ImportJob:
    _require(request, "view_contactlist", *codenames)
    return get_object_or_404(ImportJob.objects.select_related("contact_list"), pk=pk)


def _start_import(request: HttpRequest, contact_list: ContactList, form: ImportForm) -> None:
    importing.start_import(
        contact_list=contact_list,
        upload=form.cleaned_data["file"],
        default_region=form.cleaned_data["default_region"],
        by=request.user,
        layout=form.layout,
        update_existing=form.cleaned_data["update_existing"],
    )


def _started_message(form: ImportForm, started: str) -> str:
    dropped = form.layout.dropped
    if not dropped:
        return f"{started}…"
    return f"{started}; left out: {' '.join(dropped)}"


@require_POST
def list_import(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = _get_list(request, pk, *IMPORT_PERMISSIONS)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list_page(request, contact_list, status=400, import_form=form)
    _start_import(request, contact_list, form)
    messages.success(
        request, _started_message(form, f"Importing {form.cleaned_data['file'].name}")
    )
    return redirect(contact_list)


@require_http_methods(["GET", "HEAD", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    """GET: the form; POST: create the list and queue the import of the upload into it.

    A viewer is not shown the form either: nobody sees a form they cannot submit (SPEC 6).
    """
    _require(request, "add_contactlist", *IMPORT_PERMISSIONS)
    form = NewListImportForm()
    if request.method == "POST":
        form = NewListImportForm(request.POST, request.FILES)
        if form.is_valid():
            with transaction.atomic():
                contact_list = ContactList.objects.create(
                    name=form.cleaned_data["list_name"], created_by=request.user
                )
                _start_import(request, contact_list, form)
            started = f"List “{contact_list.name}” created; importing"
            messages.success(request, _started_message(form, started))
            return redirect(contact_list)
    status = 400 if form.is_bound else 200
    return render(request, "contacts/import_new.html", {"form": form}, status=status)


def _progress(request: HttpRequest, job: ImportJob, *, status: int = 200, **extra) -> HttpResponse:
    context = {"job": job, "contact_list": job.contact_list, **extra}
    if request.htmx:
        html = render_to_string("contacts/import_detail.html#progress", context, request)
        if job.is_finished:
            # The list's page refreshes its contacts when it hears the import has ended.
            return trigger_client_event(HttpResponseStopPolling(html), "importFinished")
        return HttpResponse(html, status=status)
    return render(request, "contacts/import_detail.html", context, status=status)


@require_safe
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _progress(request, _get_job(request, pk))


@require_http_methods(["GET", "HEAD", "POST"])
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for the confirmation (the page without JavaScript); POST cancels."""
    job = _get_job(request, pk, *IMPORT_PERMISSIONS)
    if request.method != "POST":
        return render(request, "contacts/import_cancel.html", {"job": job})
    return _act(
        request,
        job,
        job.cancel,
        lambda: (
            f"Import of {job.original_name} cancelled. The {job.rows_imported:,} contacts "
            "it imported stay in the list; the rest of the file was not read, and it is deleted."
        ),
    )


@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk, *IMPORT_PERMISSIONS)
    return _act(
        request,
        job,
        job.resume,
        lambda: f"Import of {job.original_name} resumes at row {job.next_row:,}.",
    )


def _act(request: HttpRequest, job: ImportJob, transition, done: Callable[[], str]):
    """Cancel or Resume: the transition, its message, and the import's progress again (409
    with the refusal when the import's state allows it no more)."""
    try:
        transition(by=request.user)
    except AlreadyDone as exc:
        messages.info(request, str(exc))
    except InvalidTransition as exc:
        return _progress(request, job, status=409, import_refusal=str(exc))
    else:
        messages.success(request, done())
    return _progress(request, job) if request.htmx else redirect(job)


@require_safe
def import_report(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = _get_job(request, pk)

    def rows():
        yield ["row", "column", "reason"]
        if job.error_report and job.error_report_bytes:
            with job.error_report.open("rb") as stored:
                # Only the committed batches' lines; a batch rolled back may have left more.
                data = stored.read(job.error_report_bytes).decode()
            yield from csv.reader(io.StringIO(data))
        if job.status == ImportJob.Status.FAILED:
            yield [job.next_row, "", f"The import stopped here: {job.failure}"]

    response = StreamingHttpResponse(csv_stream(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
