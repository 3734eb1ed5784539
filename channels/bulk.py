"""Batches of rows handed to the database in one statement, whatever the batch's size."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection


def rows_source(rows: Sequence[tuple], types: Sequence[str]) -> tuple[str, list]:
    """A row source of `rows` whose columns are named column1 … columnN, with its
    parameters: for `INSERT … SELECT v.column1, … FROM (source) AS v` or
    `UPDATE … FROM (source) AS v`. `types` are the columns' PostgreSQL types; the values
    are JSON's (numbers, strings, booleans, None; a boolean only in a boolean column): pass
    instants as the statement's own parameters.

    On PostgreSQL the rows travel as one JSON array of arrays, split by the server. A
    VALUES list of a thousand rows has thousands of placeholders, which psycopg's
    client-side binding splits out of the statement's text again on every execute (half
    of the dispatch loop's time, py-spy, bench `dispatch`); one array parameter a column
    (`unnest`) left most of that in dumping each element. SQLite binds placeholders in C:
    a VALUES list, whose columns SQLite names column1 … columnN itself.
    """
    if not rows or any(len(row) != len(types) for row in rows):
        raise ValueError(f"rows_source needs rows of {len(types)} values, and at least one")
    if connection.vendor == "postgresql":
        columns = ", ".join(
            f"(r ->> {n})::{kind} AS column{n + 1}" for n, kind in enumerate(types)
        )
        source = f"SELECT {columns} FROM json_array_elements(%s::json) AS r"  # noqa: S608
        # Not ASCII-escaped: a \uXXXX escape decodes only on a UTF8 database.
        return source, [json.dumps(rows, ensure_ascii=False)]
    row = "(" + ", ".join(["%s"] * len(types)) + ")"
    return "VALUES " + ", ".join([row] * len(rows)), [value for row in rows for value in row]
