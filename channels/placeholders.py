"""Placeholders in a channel's content: `{first_name}`, `{city|your city}`, checked and filled.

`{field|fallback}` gives the text a contact without that field (or with it empty) gets.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.core.exceptions import ValidationError

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: The contact's own fields a template can name, in the order the content tools list them.
CONTACT_FIELDS = ("first_name", "last_name", "name", "email", "phone", "timezone")


class Placeholder(NamedTuple):
    name: str
    fallback: str | None  # None: no `|`; "" is an explicit empty fallback


def parse(text: str) -> list[Placeholder]:
    """Every placeholder of `text`, in order, as written ("{ city | town }" -> city, town)."""
    found = []
    for inside in PLACEHOLDER.findall(text or ""):
        name, bar, fallback = inside.partition("|")
        found.append(Placeholder(name.strip(), fallback.strip() if bar else None))
    return found


def validate_template(text: str) -> None:
    """Placeholders like {first_name} must name a contact field or a simple attribute."""
    bad = [
        "{" + inside + "}"
        for inside, placeholder in zip(PLACEHOLDER.findall(text or ""), parse(text), strict=True)
        if not ATTRIBUTE_NAME.fullmatch(placeholder.name)
    ]
    if bad:
        raise ValidationError(
            "Unknown placeholder %(names)s; use {first_name}, {name}, {email} or an "
            "attribute name such as {city}, with a default after a bar if you like: "
            "{first_name|there}.",
            params={"names": ", ".join(bad)},
        )


def render_template(text: str, values: dict) -> str:
    """Fill {placeholders}; a missing or empty value gives the fallback, else nothing (never
    the braces)."""

    def fill(match: re.Match) -> str:
        name, bar, fallback = match.group(1).partition("|")
        value = values.get(name.strip())
        if value is None or value == "":
            return fallback.strip() if bar else ""
        return str(value)

    return PLACEHOLDER.sub(fill, text or "")
