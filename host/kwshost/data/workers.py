"""Process pools for the data work (synthesis, features), started from a clean process.

A worker forked straight from this process copies it as it is at that instant, locks
included. Once TensorFlow, OpenBLAS or any library has started threads here (tests, `kwshost
train`), a lock one of them held at the fork stays held in the worker for ever, and the first
call that needs it waits for ever: a stalled feature build, or a Pico child (forked once more,
voices.py) timing out and dropping its utterances, which changes a stream that must be the
same for every run of one seed. So the workers are forked from multiprocessing's fork server,
a fresh single-threaded Python process that has only imported the data modules.

They run under concurrent.futures' ProcessPoolExecutor rather than multiprocessing.Pool: when
the caller stops early (a task's error, Ctrl-C), Pool.terminate() could hang for ever, its task
thread writing a sentinel into the results pipe that a killed worker had filled with half a
feature chunk and that nobody read any more (seen in CI); and a worker that died left Pool
waiting for its result for ever. The executor keeps reading results until its workers have
stopped, and a dead worker breaks it with an error.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from kwshost.errors import KwsError

# Imported once by the fork server, so that each worker starts with them loaded.
PRELOAD = ["kwshost.data.features", "kwshost.data.make", "kwshost.data.streams"]


def executor(jobs: int, initializer: Callable | None = None,
             initargs: tuple = ()) -> ProcessPoolExecutor:
    """max(1, jobs) worker processes forked from the fork server. Tasks and initializers must
    be module-level functions (they are pickled by name), and what a task needs must come in
    its arguments: nothing set in this process after start-up reaches the workers."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max(1, jobs), mp_context=ctx, initializer=initializer,
                               initargs=initargs)


def results(jobs: int, fn: Callable, tasks: Iterable, initializer: Callable | None = None,
            initargs: tuple = (), ordered: bool = False, chunksize: int = 1) -> Iterator:
    """fn(task) for every task, computed by `executor(jobs, ...)`'s workers: as each finishes,
    or in the tasks' order when `ordered`. A task's exception is raised here. Stopping early
    (that exception, an error in the caller's loop, Ctrl-C) cancels the tasks not yet started
    and waits for the few running; a worker that dies is a KwsError, never a hang."""
    pool = executor(jobs, initializer, initargs)
    try:
        if ordered:
            yield from pool.map(fn, tasks, chunksize=chunksize)
        else:
            pending = {pool.submit(fn, t) for t in tasks}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:   # dropped once yielded: results are not all kept
                    yield future.result()
    except BrokenProcessPool as e:
        raise KwsError(f"a worker process died: {e}",
                       hint="out of memory? try fewer --jobs") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
