"""Placeholders in a channel's content (channels/placeholders.py): checked, parsed, filled."""

import pytest
from django.core.exceptions import ValidationError

from channels.placeholders import Placeholder, parse, render_template, validate_template


def test_it_fills_fields_and_gives_missing_or_empty_ones_their_fallback():
    values = {"first_name": "Ann", "city": "", "plan": None}
    text = "Hi {first_name|there}, {city|your city}, {plan|basic}, {zip}, {zip|}."
    assert render_template(text, values) == "Hi Ann, your city, basic, , ."


def test_a_fallback_keeps_its_inner_spaces_and_a_value_wins():
    assert render_template("{ city | the big city }", {}) == "the big city"
    assert render_template("{city|nowhere}", {"city": 0}) == "0"


def test_it_parses_names_and_fallbacks():
    assert parse("{a} {b|x} {c|}") == [
        Placeholder("a", None),
        Placeholder("b", "x"),
        Placeholder("c", ""),
    ]


def test_it_accepts_fallbacks_and_refuses_names_that_are_not_fields():
    validate_template("Hi {first_name|there}, {city|, your city,}")
    with pytest.raises(ValidationError) as refused:
        validate_template("Hi {first name} {ok} {|x}")
    assert "Unknown placeholder {first name}, {|x}" in refused.value.messages[0]
