"""One-click unsubscribe (RFC 8058): the signed link in every email, and its page.

Every email carries `List-Unsubscribe: <https://…/unsubscribe/<token>/>, <mailto:…>` and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The token is a signature of (contact,
kind) made with SECRET_KEY and a salt of its own: it names whom to opt out and proves that
Herald wrote the link, so it needs no session, no login and no CSRF token. It never expires:
an unsubscribe link must keep working as long as the email exists.

A POST (a mail client's one-click request, or the page's button) opts the contact out at
once; a GET only shows the page with its button, because link scanners and previews fetch
every URL in a message.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import Channel

SALT = "herald.unsubscribe"
# The contact id of the link in a test send: it unsubscribes nobody.
NOBODY = 0
ONE_CLICK = "List-Unsubscribe=One-Click"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def make_token(contact_id: int, kind: str = Channel.Kind.EMAIL) -> str:
    return _signer().sign_object([int(contact_id), str(kind)])


def read_token(token: str) -> tuple[int, str]:
    """(contact id, kind) from a token; raises signing.BadSignature if it is not ours."""
    value = _signer().unsign_object(token)
    match value:
        case [int() as contact_id, str() as kind] if kind in Channel.Kind.values:
            return contact_id, kind
    raise signing.BadSignature("Not an unsubscribe token.")


def unsubscribe_url(contact_id: int, kind: str = Channel.Kind.EMAIL) -> str:
    path = reverse("unsubscribe", args=[make_token(contact_id, kind)])
    return settings.HERALD_PUBLIC_URL + path


class URIListHeader(str):
    """A header whose value is a list of <URI>s (RFC 2369), folded only between them.

    Python's email package folds a header longer than 78 characters, and folds a token too
    long for one line, such as a signed URL, by RFC 2047-encoding it (CPython issue 85725):
    mail clients then find no link in `List-Unsubscribe`. This value is a str anywhere it is
    read (an ESP's API takes it as it is), and when a message is serialized the email package
    asks the header to fold itself: it breaks the line after a comma only, never inside a
    URI (a line may run to 998 characters, RFC 5322 section 2.1.1).
    """

    name: str
    uris: tuple[str, ...]

    def __new__(cls, name: str, uris: list[str]) -> URIListHeader:
        if any(c in "\r\n<>, " for uri in uris for c in uri) or not uris:
            raise ValueError(f"Not a URI list for {name}: {uris!r}")
        header = super().__new__(cls, ", ".join(f"<{uri}>" for uri in uris))
        header.name, header.uris = name, tuple(uris)
        return header

    def fold(self, *, policy) -> str:
        limit = policy.max_line_length or 998
        lines = [f"{self.name}:"]
        for index, uri in enumerate(self.uris):
            item = f"<{uri}>" + ("," if index < len(self.uris) - 1 else "")
            if index and len(lines[-1]) + 1 + len(item) > limit:
                lines.append(f" {item}")
            else:
                lines[-1] += f" {item}"
        return policy.linesep.join(lines) + policy.linesep


def unsubscribe_headers(contact_id: int | None) -> dict[str, str]:
    """The RFC 8058 headers of an email to this contact (both providers and the test send).

    A test send to a manager passes None: its link works, and unsubscribes nobody.
    """
    contact_id = NOBODY if contact_id is None else contact_id
    mailto = f"mailto:{settings.HERALD_UNSUBSCRIBE_MAILTO}?subject=unsubscribe"
    return {
        "List-Unsubscribe": URIListHeader(
            "List-Unsubscribe", [unsubscribe_url(contact_id), mailto]
        ),
        "List-Unsubscribe-Post": ONE_CLICK,
    }


# No CSRF check on this view only: mail clients send the RFC 8058 one-click POST with the
# body `List-Unsubscribe=One-Click` and no cookie, so there is no CSRF token to check. The
# signed token in the URL is the proof that the request comes from the email we sent; a
# forged request could only opt its own signed contact out, which is what the link is for.
@csrf_exempt
@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    from campaigns.models import ConsentChange, Contact

    try:
        contact_id, kind = read_token(token)
    except signing.BadSignature:
        return render(request, "unsubscribe/invalid.html", status=400)
    if contact_id == NOBODY:
        return render(request, "unsubscribe/invalid.html", {"test": True})
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return render(request, "unsubscribe/invalid.html", {"gone": True}, status=404)
    context = {"contact": contact}
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        contact.set_consent(
            kind,
            opted_out=True,
            source=ConsentChange.Source.UNSUBSCRIBE_LINK,
            detail="One-click unsubscribe from the mail client"
            if one_click
            else "Unsubscribe page",
        )
        return render(request, "unsubscribe/done.html", context)
    context["already"] = getattr(contact, Contact.opt_out_field(kind))
    return render(request, "unsubscribe/confirm.html", context)
