"""What every email Herald sends looks like, whichever provider carries it.

`build_email` turns one `Outgoing` email into a Django message: From the channel's address
(else DEFAULT_FROM_EMAIL), To the contact with their name, the rendered subject, a plain-text
body and, when the body is HTML, an HTML alternative with the plain text derived from it,
and the one-click unsubscribe headers (`channels.unsubscribe.unsubscribe_headers`). Django
encodes non-ASCII subjects and names.
"""

from __future__ import annotations

import html
import re
from email.headerregistry import Address
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME

from ..unsubscribe import unsubscribe_headers
from .base import Outgoing

# A start or end tag such as <p>, <br/>, <a href="…"> or </div>: "a < b" is not one.
TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>")


def looks_like_html(text: str) -> bool:
    return bool(TAG.search(text or ""))


def is_html(content: dict) -> bool:
    """Whether the body is HTML: as `content_for` decided from the template, else by looking."""
    body_format = content.get("body_format")
    if body_format:
        return body_format == "html"
    return looks_like_html(content.get("body", ""))


_DROP = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_LINK = re.compile(r"<a\b[^>]*?\bhref\s*=\s*([\"'])(.*?)\1[^>]*>(.*?)</a\s*>", re.I | re.S)
_BREAK = re.compile(r"<br\s*/?>", re.I)
_ITEM = re.compile(r"<li\b[^>]*>", re.I)
_BLOCK_END = re.compile(r"</(p|div|h[1-6]|ul|ol|table|blockquote|section|article)\s*>", re.I)
_LINE_END = re.compile(r"</(li|tr)\s*>", re.I)


def html_to_text(markup: str) -> str:
    """A readable plain-text version of an HTML body: paragraphs, line breaks, list items
    and links ("text (url)") kept; every other tag dropped; entities decoded."""

    def link(match: re.Match) -> str:
        url, label = html.unescape(match.group(2)).strip(), match.group(3)
        text = html.unescape(re.sub(r"<[^>]*>", "", label)).strip()
        if not url or url.startswith("#") or text == url or not text:
            return label if text else url
        return f"{label} ({url})"

    text = _DROP.sub("", markup)
    text = _LINK.sub(link, text)
    text = re.sub(r"\s*\n\s*", " ", text)  # source line breaks are just spaces in HTML
    text = _BREAK.sub("\n", text)
    text = _ITEM.sub("\n- ", text)
    text = _BLOCK_END.sub("\n\n", text)
    text = _LINE_END.sub("\n", text)
    text = html.unescape(re.sub(r"<[^>]*>", "", text)).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def recipient(message: Outgoing) -> str:
    """The To address, with the contact's name when there is one ("Zoë Ålund <z@…>")."""
    name = (message.content.get("to_name") or "").strip()
    if not name:
        return message.to
    # Address quotes a name with commas or quotes; Django encodes a non-ASCII one.
    return str(Address(display_name=name, addr_spec=message.to))


def build_email(message: Outgoing, *, message_id: bool = False) -> EmailMultiAlternatives:
    """The email for one delivery. With `message_id`, a Message-ID made by make_msgid in the
    sender's domain is set (read it back with `email.extra_headers["Message-ID"]`); without,
    the backend or the ESP gives one."""
    content = message.content
    body = content.get("body", "")
    from_email = content.get("from") or settings.DEFAULT_FROM_EMAIL
    # A test send (no delivery) carries a link that unsubscribes nobody: the manager who
    # clicks it in their own inbox must not opt out the contact it was rendered for.
    headers = unsubscribe_headers(message.contact_id if message.delivery_id else None)
    if message_id:
        domain = parseaddr(from_email)[1].rpartition("@")[2] or str(DNS_NAME)
        headers["Message-ID"] = make_msgid(domain=domain)
    html_body = is_html(content)
    email = EmailMultiAlternatives(
        subject=content.get("subject", ""),
        body=html_to_text(body) if html_body else body,
        from_email=from_email,
        to=[recipient(message)],
        headers=headers,
    )
    if html_body:
        email.attach_alternative(body, "text/html")
    return email
