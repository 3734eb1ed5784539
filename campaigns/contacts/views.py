"""Contact lists, contacts and CSV imports: the pages a campaign manager keeps lists with."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Prefetch, ProtectedError, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST, require_safe

from campaigns.exporting import csv_stream
from channels.details import call_details, sent_content
from channels.models import Delivery, ProviderEvent

from .forms import ContactForm, ContactListForm, ImportForm, OptOutForm
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
    latest_import = ImportJob.objects.filter(contact_list=OuterRef("pk")).values("pk")[:1]
    lists = (
        ContactList.objects.prefetch_related("campaigns")
        .annotate(latest_import_id=Subquery(latest_import))
        .order_by("name")
    )
    page = Paginator(lists, PAGE_SIZE).get_page(request.GET.get("page"))
    # Each list shows how its latest import stands, unless it simply completed.
    jobs = ImportJob.objects.in_bulk([c.latest_import_id for c in page if c.latest_import_id])
    for contact_list in page:
        contact_list.latest_import = jobs.get(contact_list.latest_import_id)
    context = {"page": page, "form": form}
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
        contact_list.delete_with_files()
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


# -- contacts ---------------------------------------------------------------------------


def _contact_page(
    request: HttpRequest, contact: Contact, *, status: int = 200, **forms
) -> HttpResponse:
    deliveries = (
        Delivery.objects.filter(contact=contact)
        .select_related("channel__campaign")
        .prefetch_related(
            Prefetch("events", ProviderEvent.objects.order_by("received_at", "pk")),
            "earlier_calls",
        )
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
