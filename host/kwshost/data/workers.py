"""Process pools for the data work (synthesis, features), started from a clean process.

A worker forked straight from this process copies it as it is at that instant, locks
included. Once TensorFlow, OpenBLAS or any library has started threads here (tests, `kwshost
train`), a lock one of them held at the fork stays held in the worker for ever, and the first
call that needs it waits for ever: a stalled feature build, or a Pico child (forked once more,
voices.py) timing out and dropping its utterances, which changes a stream that must be the
same for every run of one seed. So the workers are forked from multiprocessing's fork server,
a fresh single-threaded Python process that has only imported the data modules.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.pool import Pool

# Imported once by the fork server, so that each worker starts with them loaded.
PRELOAD = ["kwshost.data.features", "kwshost.data.make", "kwshost.data.streams"]


def pool(jobs: int, initializer: Callable | None = None, initargs: tuple = ()) -> Pool:
    """A pool of max(1, jobs) workers forked from the fork server. Tasks and initializers
    must be module-level functions (they are pickled by name), and what a task needs must
    come in its arguments: nothing set in this process after start-up reaches the workers."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx.Pool(max(1, jobs), initializer, initargs)
