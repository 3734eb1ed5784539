"""Placeholders in a channel's content: `{first_name}`, `{city}`, checked and filled."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
CONTACT_FIELDS = {"name", "first_name", "last_name", "phone", "email", "timezone"}


def validate_template(text: str) -> None:
    """Placeholders like {first_name} must name a contact field or a simple attribute."""
    bad = [
        name
        for name in PLACEHOLDER.findall(text or "")
        if name not in CONTACT_FIELDS and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)
    ]
    if bad:
        raise ValidationError(
            "Unknown placeholder %(names)s; use {first_name}, {name}, {email} or an "
            "attribute name such as {city}.",
            params={"names": ", ".join("{" + name + "}" for name in bad)},
        )


def render_template(text: str, values: dict) -> str:
    """Fill {placeholders}; an unknown one becomes empty rather than leaking braces."""
    return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), "")), text or "")
