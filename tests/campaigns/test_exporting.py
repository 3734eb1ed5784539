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
