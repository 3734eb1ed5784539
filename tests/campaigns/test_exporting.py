import csv
import io

from campaigns.exporting import csv_stream, neutralize_cell


def test_it_neutralises_cells_a_spreadsheet_would_run():
    for dangerous in ("=SUM(A1)", "+1", "-2+3", "@cmd", "\t=1"):
        assert neutralize_cell(dangerous) == "'" + dangerous


def test_it_leaves_ordinary_cells_alone():
    assert neutralize_cell("Ada Lovelace") == "Ada Lovelace"
    assert neutralize_cell(None) == ""
    assert neutralize_cell(42) == "42"


def test_it_streams_one_line_per_row():
    lines = list(
        csv_stream([["name", "note"], ["Ada", "=HYPERLINK()"], ["Bo", 'say "hi"']], bom=False)
    )
    assert lines == ["name,note\r\n", "Ada,'=HYPERLINK()\r\n", 'Bo,"say ""hi"""\r\n']


def test_it_prefixes_every_formula_start():
    assert [
        neutralize_cell(v) for v in ["=1+1", "+44", "-2", "@SUM(A1)", "\tx", "ok", None, 3]
    ] == [
        "'=1+1",
        "'+44",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        "",
        "3",
    ]


def test_it_neutralises_every_cell_of_the_stream():
    text = "".join(csv_stream([["=cmd|' /C calc'!A0", "fine"]], bom=False))
    assert next(csv.reader(io.StringIO(text))) == ["'=cmd|' /C calc'!A0", "fine"]
