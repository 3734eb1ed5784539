"""`manage.py bench --only`: the figures it may name."""

from argparse import ArgumentTypeError

import pytest

from bench.run import FIGURES
from channels.management.commands.bench import figure_names


def test_it_reads_a_comma_separated_list_of_figures():
    assert figure_names("dispatch, many_channels,") == {"dispatch", "many_channels"}
    assert set(FIGURES) >= {"dispatch", "many_channels", "first_contact", "voice"}


def test_it_refuses_a_figure_it_does_not_know():
    with pytest.raises(ArgumentTypeError, match="unknown figures: dispatc"):
        figure_names("dispatc,voice")
