"""What a channel sends a contact: its content rendered with the contact's fields.

One function renders it, `content_for`, for the dispatcher (from the audience rows it
reads), the test send and the contact's history (from a `Contact`, through `row_for`).
"""

from __future__ import annotations

from html import escape

from campaigns.models import Contact

from .models import Channel, render_template
from .providers.email import looks_like_html

#: The contact columns a rendering reads, as the dispatcher selects them through the audience.
CONTACT_FIELDS = ("name", "phone", "email", "timezone", "attributes")


def row_for(contact: Contact) -> dict:
    """A contact as the audience row the dispatcher reads (`contact__<field>` keys)."""
    return {f"contact__{name}": getattr(contact, name) for name in CONTACT_FIELDS}


def content_for(channel: Channel, row: dict) -> dict[str, str]:
    """The channel's content for the contact of an audience row (see `row_for`)."""
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
            **{key: str(value) for key, value in values.items() if value not in (None, "")},
            "script": render_template(channel.voice_script, values),
            "caller_id": channel.caller_id,
        }
    if channel.kind == Channel.Kind.SMS:
        return {
            "text": render_template(channel.sms_template, values),
            "sender": channel.sms_sender,
        }
    html = looks_like_html(channel.email_body)
    # In an HTML body a contact's values are text: "<b>" in a name must not become markup.
    body_values = {key: escape(str(value)) for key, value in values.items()} if html else values
    return {
        "subject": render_template(channel.email_subject, values),
        "body": render_template(channel.email_body, body_values),
        "body_format": "html" if html else "text",
        "from": channel.email_from,
        "to_name": name,
    }


def content_for_contact(channel: Channel, contact: Contact) -> dict[str, str]:
    return content_for(channel, row_for(contact))
