"""`rows_source`: a batch's rows come back from the database as they went in, on SQLite and
PostgreSQL alike, whatever their text holds."""

import pytest
from django.db import connection

from channels.bulk import rows_source

pytestmark = pytest.mark.django_db

TYPES = ["bigint", "text", "boolean", "text"]
ROWS = [
    (1, "plain", True, None),
    (2**40, 'it\'s "quoted", {braced}, back\\slash, %s and %(name)s', False, ""),
    (3, "Ünïcödé — 東京 🙂", True, "line\nbreak\ttab"),
    (-4, "", False, "NULL"),
]


def read_back(rows, types):
    source, params = rows_source(rows, types)
    names = ", ".join(f"v.column{n}" for n in range(1, len(types) + 1))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM ({source}) AS v ORDER BY v.column1", params)  # noqa: S608
        return [tuple(row) for row in cursor.fetchall()]


def test_rows_come_back_as_they_went_in():
    got = read_back(ROWS, TYPES)
    # SQLite has no boolean type: it gives 1 and 0 back.
    assert [(a, b, bool(c), d) for a, b, c, d in got] == sorted(ROWS)


@pytest.mark.postgres
def test_the_statement_text_does_not_grow_with_the_batch_on_postgresql():
    # SQLite binds a VALUES list's placeholders itself; psycopg would split them out of
    # the text on every execute.
    small, _ = rows_source(ROWS[:1], TYPES)
    large, params = rows_source(ROWS * 500, TYPES)
    assert small == large
    assert len(params) == 1
    assert len(read_back([(n, "x", True, None) for n in range(2000)], TYPES)) == 2000


@pytest.mark.parametrize("rows", [[], [(1, "a", True)], [(1, "a", True, None, "extra")]])
def test_rows_of_the_wrong_width_or_none_are_refused(rows):
    with pytest.raises(ValueError, match="rows of 4 values"):
        rows_source(rows, TYPES)
