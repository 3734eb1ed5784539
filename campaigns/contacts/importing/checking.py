"""Checking a batch's rows, in the importing process or in a child process beside it.

`parse_batch` is the one way a batch's rows become a `Batch`. `checker` hands out a function
that takes a batch's rows and gives back a function returning the parsed batch: in-process
the parsing waits for that call, so a batch is parsed just before it is written, as it always
was; with `apart` a child process parses it at once, while the importer writes the batch
before it. The child sets Django up (import_child.py) and never touches the database:
parsing is pure.

Measured (py-spy, `import_contacts`, 100,000 rows on PostgreSQL): parsing was 66% of the
importer's 9.2 s of CPU and writing 19%, plus ~4 s waiting on PostgreSQL; on two cores the
writing and the parsing can overlap. At most one batch is parsed ahead, so the importer's
memory stays that of a batch or two; the child peaked at 60 MB (200,000 rows), and the
forkserver and the resource tracker that multiprocessing keeps beside it take ~15 MB each.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial

from campaigns.contacts.import_child import start_child

from .layout import Layout
from .rows import parse_row
from .writer import Batch

# (row number, cells) of each non-blank row of a batch.
Rows = list[tuple[int, list[str]]]
Check = Callable[[Rows], Callable[[], Batch]]


def parse_batch(rows: Rows, *, layout: Layout, region: str) -> Batch:
    batch = Batch()
    for row, cells in rows:
        batch.add(*parse_row(cells, row=row, layout=layout, region=region), row=row)
    return batch


@contextmanager
def checker(*, layout: Layout, region: str, apart: bool) -> Iterator[Check]:
    """A `check(rows)` that starts parsing a batch and returns the call that gives it back.

    An exception raised while parsing in the child is raised again by that call, as the
    parsing in-process would raise it; a child that dies raises BrokenProcessPool there.
    """
    if not apart:
        yield lambda rows: partial(parse_batch, rows, layout=layout, region=region)
        return
    # Not "fork": the importer holds an open database connection, and may run threads.
    executor = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=start_child,
    )
    try:
        yield lambda rows: executor.submit(parse_batch, rows, layout=layout, region=region).result
    finally:
        executor.shutdown(cancel_futures=True)
