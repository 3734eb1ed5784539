"""Rows parsed in a child process (checking.py): the same import as in-process, and a failure
in the child fails the import as one in-process would, with the child gone."""

import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool

import pytest
from django.db import transaction

from campaigns.contacts.importing import checking, import_csv
from campaigns.models import Contact

from .messy import assert_messy_import, messy_csv

pytestmark = pytest.mark.django_db

# The real one, also in the child, where the test's monkeypatch does not reach.
parse_batch = checking.parse_batch


class RolledBack(Exception):
    pass


def import_in_chunks(contact_list, *, apart: bool) -> dict:
    """Import the messy file as the background job does, 4 rows a chunk in batches of 2, and
    roll it back; every batch and chunk as recorded, and the contacts it left."""
    batches, chunks = [], []

    def record(batch):
        batches.append(
            (batch.end_offset, batch.next_row, batch.read, batch.imported, batch.merged)
            + (
                batch.matched,
                batch.rejected,
                batch.report_lines,
                bool(multiprocessing.active_children()),
            )
        )

    source = messy_csv()
    result = None
    try:
        with transaction.atomic():
            while result is None or not result.finished:
                result = import_csv(
                    contact_list=contact_list,
                    source=source,
                    default_region="US",
                    start_offset=result.offset if result else None,
                    start_row=result.next_row if result else None,
                    max_rows=4,
                    batch_rows=2,
                    on_batch=record,
                    check_apart_bytes=0 if apart else 10**9,
                )
                chunks.append((result.offset, result.next_row, result.read, result.imported))
            contacts = list(
                Contact.objects.order_by("phone", "email").values_list(
                    "name", "phone", "email", "timezone", "attributes", "opted_out_sms"
                )
            )
            raise RolledBack
    except RolledBack:
        pass
    return {"batches": batches, "chunks": chunks, "contacts": contacts}


def test_it_imports_the_messy_file_in_a_child_as_in_process(contact_list):
    result = import_csv(
        contact_list=contact_list,
        source=messy_csv(),
        default_region="US",
        batch_rows=2,
        check_apart_bytes=0,
    )
    assert_messy_import(result, contact_list)
    assert multiprocessing.active_children() == []


def test_it_resumes_chunk_by_chunk_at_the_same_places_in_a_child(contact_list):
    apart = import_in_chunks(contact_list, apart=True)
    in_process = import_in_chunks(contact_list, apart=False)
    # The child ran for the one, never for the other; all else is the same.
    assert {batch[-1] for batch in apart["batches"]} == {True}
    assert {batch[-1] for batch in in_process["batches"]} == {False}
    strip = [batch[:-1] for batch in apart["batches"]]
    assert strip == [batch[:-1] for batch in in_process["batches"]]
    assert apart["chunks"] == in_process["chunks"]
    assert len(apart["chunks"]) == 4  # the last one finds the end
    assert apart["contacts"] == in_process["contacts"]
    assert len(apart["contacts"]) == 5


def parse_or_fail(rows, *, layout, region):
    if any(row >= 5 for row, _ in rows):
        raise ValueError("parsing failed")
    return parse_batch(rows, layout=layout, region=region)


def parse_or_die(rows, *, layout, region):
    if any(row >= 5 for row, _ in rows):
        os._exit(1)
    return parse_batch(rows, layout=layout, region=region)


@pytest.mark.parametrize("apart", [True, False])
def test_it_fails_on_an_error_in_parsing_after_the_batches_before_it(
    contact_list, monkeypatch, apart
):
    monkeypatch.setattr(checking, "parse_batch", parse_or_fail)
    written = []
    with pytest.raises(ValueError, match="parsing failed"):
        import_csv(
            contact_list=contact_list,
            source=messy_csv(),
            default_region="US",
            batch_rows=2,
            on_batch=lambda batch: written.append((batch.next_row, batch.read)),
            check_apart_bytes=0 if apart else 10**9,
        )
    assert written == [(5, 2)]  # rows 2 and 4, then the batch with row 5 failed
    assert Contact.objects.filter(email="ann@example.com").exists()
    assert multiprocessing.active_children() == []


def test_it_fails_when_the_child_dies(contact_list, monkeypatch):
    monkeypatch.setattr(checking, "parse_batch", parse_or_die)
    written = []
    with pytest.raises(BrokenProcessPool):
        import_csv(
            contact_list=contact_list,
            source=messy_csv(),
            default_region="US",
            batch_rows=2,
            on_batch=lambda batch: written.append(batch.next_row),
            check_apart_bytes=0,
        )
    assert written == [5]
    assert multiprocessing.active_children() == []
