"""The start of the importer's checking child (importing/checking.py).

Not in the importing package: the child loads its initializer before running it, and
importing that package loads models, which needs Django set up already.
"""

import multiprocessing
import os
import threading

import django


def start_child() -> None:
    """Django's setup, and a thread that ends the child if the importer dies. Killed (a
    worker taken over, say), the importer would otherwise leave the child waiting on its
    queue for ever, and the forkserver and resource tracker with it (seen: all three still
    there after the importer's SIGKILL; gone once the child exits)."""
    django.setup()
    threading.Thread(target=_exit_with_importer, daemon=True).start()


def _exit_with_importer() -> None:
    multiprocessing.parent_process().join()
    os._exit(1)
