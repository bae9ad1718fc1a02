"""Data pools fork their workers from the fork server, never from the calling process, and
stopping them early never hangs."""

from __future__ import annotations

import os
import threading
import time

import pytest
from conftest import fails_if_hung
from kwshost.data import workers
from kwshost.errors import KwsError


def test_workers_are_not_children_of_a_process_with_a_held_lock() -> None:
    """A thread here holds a lock while the pool starts (as TensorFlow's threads may): a worker
    forked from this process would be its child and inherit the lock held; ours are the fork
    server's children and never see it."""
    held, release = threading.Lock(), threading.Event()

    def hold() -> None:
        with held:
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        with workers.executor(2) as pool:
            parents = {pool.submit(os.getppid).result() for _ in range(4)}
            assert os.getpid() not in parents
            assert pool.submit(sum, [1, 2, 3]).result() == 6      # and the pool works
    finally:
        release.set()
        thread.join()


def test_results_come_as_they_finish_or_in_order() -> None:
    tasks = [f"{n} * {n}" for n in range(40)]
    assert sorted(workers.results(2, eval, tasks)) == [n * n for n in range(40)]
    assert list(workers.results(2, eval, tasks, ordered=True, chunksize=8)) == [
        n * n for n in range(40)]


def test_an_error_while_others_return_big_results_stops_without_hanging() -> None:
    """A task fails while the others return results larger than a pipe holds (feature chunks
    are ~1.6 MB). multiprocessing.Pool's terminate() hung for ever once in CI in this
    situation, under load (its task thread writing into a results pipe nobody read); that
    race did not reproduce on demand, so this checks the part that can be checked: the
    error arrives and the pool is gone within seconds, again and again."""
    tasks = ["1 // 0"] + ["bytes(400_000)"] * 6
    with fails_if_hung(120, "the worker pool"):
        start = time.monotonic()
        for _ in range(5):
            with pytest.raises(ZeroDivisionError):
                for _ in workers.results(1, eval, tasks):
                    pass
        assert time.monotonic() - start < 100


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    """multiprocessing.Pool replaced a dead worker and waited for its lost task for ever."""
    with fails_if_hung(120, "the worker pool"), pytest.raises(KwsError,
                                                              match="worker process died"):
        list(workers.results(2, eval, ["1", "__import__('os')._exit(3)", "2"]))
