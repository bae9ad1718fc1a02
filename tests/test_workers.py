"""Data pools fork their workers from the fork server, never from the calling process."""

from __future__ import annotations

import os
import threading

from kwshost.data import workers


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
        with workers.pool(2) as pool:
            parents = {pool.apply(os.getppid) for _ in range(4)}
            assert os.getpid() not in parents
            assert pool.apply(sum, ([1, 2, 3],)) == 6      # and the pool works
    finally:
        release.set()
        thread.join()
