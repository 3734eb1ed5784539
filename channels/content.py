"""What a channel sends a contact: its content rendered with the contact's fields.

One function says what it is, `content_parts`: `content_for` renders it at once for the
test send and the contact's history (from a `Contact`, through `row_for`); the dispatcher
hands providers a `LazyContent`, which renders each value when the provider reads it and
keeps nothing, so a batch of claims never holds its rendered text (a 100 KB email body
times a batch of 1,000 would be 100 MB).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from html import escape

from campaigns.models import Contact

from .models import Channel, render_template
from .providers.email import looks_like_html

#: The contact columns a rendering reads, as the dispatcher selects them through the audience.
CONTACT_FIELDS = ("name", "phone", "email", "timezone", "attributes")


def row_for(contact: Contact) -> dict:
    """A contact as the audience row the dispatcher reads (`contact__<field>` keys)."""
    return {f"contact__{name}": getattr(contact, name) for name in CONTACT_FIELDS}


def content_parts(channel: Channel, row: dict) -> dict[str, Callable[[], str]]:
    """The channel's content for the contact of an audience row (see `row_for`), each value
    as a call that renders it."""
    name = row["contact__name"] or ""
    values = {
        **(row["contact__attributes"] or {}),
        "name": name,
        "first_name": name.split(" ", 1)[0],
        "last_name": name.split(" ", 1)[1] if " " in name else "",
        "phone": row["contact__phone"],
        "email": row["contact__email"],
        "timezone": row["contact__timezone"],
    }
    if channel.kind == Channel.Kind.AI_VOICE:
        # The contact's fields travel with the call: an AI assistant can use them as
        # variables (Vapi's variableValues) besides the rendered script.
        return {
            **{
                key: partial(str, value)
                for key, value in values.items()
                if value not in (None, "")
            },
            "script": partial(render_template, channel.voice_script, values),
            "caller_id": partial(str, channel.caller_id),
        }
    if channel.kind == Channel.Kind.SMS:
        return {
            "text": partial(render_template, channel.sms_template, values),
            "sender": partial(str, channel.sms_sender),
        }
    html = looks_like_html(channel.email_body)
    # In an HTML body a contact's values are text: "<b>" in a name must not become markup.
    body_values = {key: escape(str(value)) for key, value in values.items()} if html else values
    return {
        "subject": partial(render_template, channel.email_subject, values),
        "body": partial(render_template, channel.email_body, body_values),
        "body_format": partial(str, "html" if html else "text"),
        "from": partial(str, channel.email_from),
        "to_name": partial(str, name),
    }


def content_for(channel: Channel, row: dict) -> dict[str, str]:
    """The channel's content for the contact of an audience row, rendered now."""
    return {key: render() for key, render in content_parts(channel, row).items()}


class LazyContent(Mapping[str, str]):
    """`content_for(channel, row)` as a mapping whose values are rendered when read, one at a
    time, and not kept: what a send holds until its provider reads it."""

    __slots__ = ("channel", "row")

    def __init__(self, channel: Channel, row: dict) -> None:
        self.channel, self.row = channel, row

    def __getitem__(self, key: str) -> str:
        return content_parts(self.channel, self.row)[key]()

    def __iter__(self) -> Iterator[str]:
        return iter(content_parts(self.channel, self.row))

    def __len__(self) -> int:
        return len(content_parts(self.channel, self.row))

    def __repr__(self) -> str:
        return f"LazyContent(channel={self.channel.pk}, contact={self.row.get('contact_id')})"


def content_for_contact(channel: Channel, contact: Contact) -> dict[str, str]:
    return content_for(channel, row_for(contact))
