"""Contact lists, contacts and CSV imports: the pages a campaign manager keeps lists with."""

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Prefetch, ProtectedError, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from campaigns.exporting import csv_stream
from channels.details import call_details, sent_content
from channels.models import Delivery, ProviderEvent

from . import importing
from .forms import ContactForm, ContactListForm, ImportForm, NewListImportForm, OptOutForm
from .importing.rows import opt_out_words
from .models import ConsentChange, Contact, ContactList, ImportJob, Membership

PAGE_SIZE = 50


def _require(request: HttpRequest, *codenames: str) -> None:
    if not all(request.user.has_perm(f"campaigns.{codename}") for codename in codenames):
        raise PermissionDenied


def _get_list(request: HttpRequest, pk: int, *codenames: str) -> ContactList:
    _require(request, "view_contactlist", *codenames)
    return get_object_or_404(ContactList, pk=pk)


def _get_contact(request: HttpRequest, pk: int, *codenames: str) -> Contact:
    _require(request, "view_contact", *codenames)
    return get_object_or_404(Contact, pk=pk)


def _get_job(request: HttpRequest, pk: int) -> ImportJob:
    _require(request, "view_contactlist")
    return get_object_or_404(ImportJob.objects.select_related("contact_list"), pk=pk)


class KnownCountPaginator(Paginator):
    """Pages over a list's memberships without counting them: the list stores its size."""

    def __init__(self, object_list, per_page, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def _search(contact_list: ContactList, query: str) -> QuerySet:
    members = Membership.objects.filter(contact_list=contact_list).select_related("contact")
    if query:
        condition = Q(contact__name__icontains=query) | Q(contact__email__icontains=query)
        digits = "".join(ch for ch in query if ch.isdigit())
        if digits:
            condition |= Q(contact__phone__contains=digits)
        members = members.filter(condition)
    # Membership order (import order) follows the list's index; no sort of the whole list.
    return members.order_by("id")


def _list_page(
    request: HttpRequest, contact_list: ContactList, *, status: int = 200, **forms
) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    members = _search(contact_list, query)
    if query:
        paginator = Paginator(members, PAGE_SIZE)
    else:
        paginator = KnownCountPaginator(members, PAGE_SIZE, count=contact_list.size)
    page: Page = paginator.get_page(request.GET.get("page"))
    context = {
        "contact_list": contact_list,
        "page": page,
        "query": query,
        "campaigns": contact_list.campaigns.order_by("name"),
        "job": contact_list.imports.first(),
        "rename_form": forms.get("rename_form") or ContactListForm(instance=contact_list),
        "contact_form": forms.get("contact_form") or ContactForm(),
        "import_form": forms.get("import_form") or ImportForm(),
        "refusal": forms.get("refusal", ""),
    }
    template = "contacts/list_detail.html"
    if request.htmx and request.htmx.target == "contacts":
        template += "#contacts"
    return render(request, template, context, status=status)


# -- lists ------------------------------------------------------------------------------


def _lists_page(request: HttpRequest, *, form: ContactListForm, status: int = 200) -> HttpResponse:
    lists = ContactList.objects.prefetch_related("campaigns").order_by("name")
    page = Paginator(lists, PAGE_SIZE).get_page(request.GET.get("page"))
    jobs = ImportJob.objects.exclude(status__in=ImportJob.FINISHED_STATUSES)
    context = {
        "page": page,
        "form": form,
        "importing": set(jobs.values_list("contact_list", flat=True)),
    }
    return render(request, "contacts/lists.html", context, status=status)


@require_safe
def list_index(request: HttpRequest) -> HttpResponse:
    _require(request, "view_contactlist")
    return _lists_page(request, form=ContactListForm())


@require_POST
def list_create(request: HttpRequest) -> HttpResponse:
    _require(request, "view_contactlist", "add_contactlist")
    form = ContactListForm(request.POST)
    if not form.is_valid():
        return _lists_page(request, form=form, status=400)
    contact_list = form.save(commit=False)
    contact_list.created_by = request.user
    contact_list.save()
    messages.success(request, f"List “{contact_list.name}” created.")
    return redirect(contact_list)


@require_safe
def list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _list_page(request, _get_list(request, pk))


@require_POST
def list_rename(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = _get_list(request, pk, "change_contactlist")
    old_name = contact_list.name
    form = ContactListForm(request.POST, instance=contact_list)
    if not form.is_valid():
        contact_list.name = old_name
        return _list_page(request, contact_list, status=400, rename_form=form)
    form.save()
    messages.success(request, f"List renamed to “{contact_list.name}”.")
    return redirect(contact_list)


@require_POST
def list_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = _get_list(request, pk, "delete_contactlist")
    try:
        # Campaign.contact_list is PROTECT: the database refuses even if a campaign was
        # created on this list since the page was shown.
        contact_list.delete()
    except ProtectedError:
        names = ", ".join(f"“{c.name}”" for c in contact_list.campaigns.order_by("name"))
        refusal = (
            f"This list cannot be deleted: it is used by {names}. "
            "Delete those campaigns, or give them another list, first."
        )
        return _list_page(request, contact_list, status=409, refusal=refusal)
    messages.success(
        request, f"List “{contact_list.name}” deleted; its contacts are kept in Herald."
    )
    return redirect("contacts:lists")


@require_POST
def list_add_contact(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = _get_list(request, pk, "add_membership", "add_contact")
    form = ContactForm(request.POST)
    if not form.is_valid():
        return _list_page(request, contact_list, status=400, contact_form=form)
    added = contact_list.add_or_merge([form.instance])
    contact = added.contacts[0]
    if added.joined:
        messages.success(request, f"{contact} added to the list.")
    else:
        messages.info(request, f"{contact} is already in this list.")
    return redirect(contact_list)


@require_POST
def list_remove_contact(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    contact_list = _get_list(request, pk, "delete_membership")
    contact = get_object_or_404(Contact, pk=contact_pk)
    if contact_list.remove_contacts([contact.pk]):
        messages.success(request, f"{contact} removed from the list; the contact is kept.")
    else:
        messages.info(request, f"{contact} is not in this list.")
    return redirect(contact_list)


@require_safe
def list_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    contact_list = _get_list(request, pk)
    contacts = Contact.objects.filter(memberships__contact_list=contact_list).order_by(
        "memberships__id"
    )

    def rows():
        # Attribute columns are the union of the contacts' keys: a first pass collects them.
        keys: dict[str, None] = {}
        for attributes in contacts.values_list("attributes", flat=True).iterator(2000):
            keys.update(dict.fromkeys(attributes or {}))
        yield ["name", "phone", "email", "timezone", "opted_out", *keys]
        for contact in contacts.iterator(2000):
            attributes = contact.attributes or {}
            yield [
                contact.name,
                contact.phone,
                contact.email,
                contact.timezone,
                opt_out_words(contact),
                *(attributes.get(key, "") for key in keys),
            ]

    response = StreamingHttpResponse(csv_stream(rows()), content_type="text/csv; charset=utf-8")
    filename = "".join(ch if ch.isalnum() else "-" for ch in contact_list.name) or "list"
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


# -- imports ----------------------------------------------------------------------------


def _start_import(request: HttpRequest, contact_list: ContactList, form: ImportForm) -> None:
    importing.start_import(
        contact_list=contact_list,
        upload=form.cleaned_data["file"],
        default_region=form.cleaned_data["default_region"],
        by=request.user,
        layout=form.layout,
        update_existing=form.cleaned_data["update_existing"],
    )


@require_POST
def list_import(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = _get_list(request, pk, "add_contact", "add_membership")
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list_page(request, contact_list, status=400, import_form=form)
    _start_import(request, contact_list, form)
    messages.success(request, f"Importing {form.cleaned_data['file'].name}…")
    return redirect(contact_list)


@require_http_methods(["GET", "HEAD", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    """GET: the form; POST: create the list and queue the import of the upload into it.

    A viewer is not shown the form either: nobody sees a form they cannot submit (SPEC 6).
    """
    _require(request, "add_contactlist", "add_contact", "add_membership")
    form = NewListImportForm()
    if request.method == "POST":
        form = NewListImportForm(request.POST, request.FILES)
        if form.is_valid():
            with transaction.atomic():
                contact_list = ContactList.objects.create(
                    name=form.cleaned_data["list_name"], created_by=request.user
                )
                _start_import(request, contact_list, form)
            messages.success(request, f"List “{contact_list.name}” created; importing…")
            return redirect(contact_list)
    status = 400 if form.is_bound else 200
    return render(request, "contacts/import_new.html", {"form": form}, status=status)


@require_safe
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    context = {"job": job, "contact_list": job.contact_list}
    if request.htmx:
        html = render_to_string("contacts/import_detail.html#progress", context, request)
        if job.is_finished:
            # The list's page refreshes its contacts when it hears the import has ended.
            return trigger_client_event(HttpResponseStopPolling(html), "importFinished")
        return HttpResponse(html)
    return render(request, "contacts/import_detail.html", context)


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


# -- contacts ---------------------------------------------------------------------------


def _contact_page(
    request: HttpRequest, contact: Contact, *, status: int = 200, **forms
) -> HttpResponse:
    deliveries = (
        Delivery.objects.filter(contact=contact)
        .select_related("channel__campaign")
        .prefetch_related(Prefetch("events", ProviderEvent.objects.order_by("received_at", "pk")))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    for delivery in page:
        delivery.sent_content = sent_content(delivery.channel, contact)
        delivery.call = call_details(delivery.details)
    opt_out_form = OptOutForm(instance=contact)
    context = {
        "contact": contact,
        "page": page,
        "lists": contact.lists.order_by("name"),
        "converted": deliveries.filter(converted=True).count(),
        "form": forms.get("form") or ContactForm(instance=contact),
        "opt_out_form": opt_out_form,
        "consent_changes": contact.consent_changes.select_related("actor"),
    }
    return render(request, "contacts/contact.html", context, status=status)


@require_safe
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_page(request, _get_contact(request, pk))


@require_POST
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk, "change_contact")
    form = ContactForm(request.POST, instance=contact)
    if not form.is_valid():
        contact.refresh_from_db()
        return _contact_page(request, contact, status=400, form=form)
    form.save()
    messages.success(request, "Contact saved.")
    return redirect(contact)


@require_POST
def contact_opt_out(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk, "change_contact")
    form = OptOutForm(request.POST, instance=contact)
    if not form.is_valid():  # checkboxes cannot be invalid; kept for the form contract
        return _contact_page(request, contact, status=400)
    for kind, field in Contact.OPT_OUT_FIELDS.items():
        contact.set_consent(
            kind,
            opted_out=form.cleaned_data[field],
            source=ConsentChange.Source.MANAGER,
            by=request.user,
        )
    kinds = opt_out_words(contact)
    messages.success(
        request, f"Opted out of: {kinds}." if kinds else "Opted in to calls, SMS and email."
    )
    return redirect(contact)
