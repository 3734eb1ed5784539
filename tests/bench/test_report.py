"""bench.report: a figure's row and the table `make bench` prints."""

from bench.report import figure, render_table


def test_it_meets_a_higher_is_better_target_at_or_above_it():
    assert figure("dispatch", "m", 0.5, 0.5)["met"] == "yes"
    assert figure("dispatch", "m", 0.49, 0.5)["met"] == "NO"
    assert figure("dispatch", "m", 0.5, 0.5)["target"] == "≥ 0.5"


def test_it_meets_a_lower_is_better_target_at_or_below_it():
    row = figure("start", "12 ms vs 10 ms", 1.234, 2.0, higher=False)
    assert row == {
        "figure": "start",
        "measured": "12 ms vs 10 ms",
        "ratio": "1.23",
        "target": "≤ 2.0",
        "met": "yes",
    }
    assert figure("start", "m", 2.01, 2.0, higher=False)["met"] == "NO"


def test_it_renders_a_markdown_table():
    table = render_table([figure("a", "b", 1, 2.0, higher=False)])
    assert table.splitlines() == [
        "| figure | measured | ratio | target | met |",
        "|---|---|---|---|---|",
        "| a | b | 1.00 | ≤ 2.0 | yes |",
    ]
