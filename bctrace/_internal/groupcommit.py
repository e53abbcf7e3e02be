"""Group commit: many threads each wait for their own write to be durable, one commit serves all.

A thread that wants its write committed queues it. If no commit is running, it becomes the
leader: it takes every write queued so far, commits them together (one transaction, one sync),
then wakes the others. Threads that queued while a commit was running wait for it to end; the
first of them still uncommitted leads the next commit, taking everything queued meanwhile. So
under contention the batches grow by themselves, and with one thread nothing waits: each write
is its own commit, as before.

Each write's own failure (say, a duplicate record) goes back to that write's thread only; a
failed commit fails every write of its batch. This module knows nothing of SQLite: the outbox
passes the function that commits a batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Write(Generic[T]):
    """One queued write; ``commit_batch`` sets ``result`` or ``error`` on each."""

    __slots__ = ("done", "error", "job", "result")

    def __init__(self, job: T) -> None:
        self.job = job
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommitter(Generic[T]):
    """Runs ``commit_batch(writes)`` for batches of queued writes, one batch at a time."""

    def __init__(self, commit_batch: Callable[[list[Write[T]]], None]) -> None:
        self._commit_batch = commit_batch
        self._cond = threading.Condition()
        self._queue: list[Write[T]] = []
        self._leading = False

    def submit(self, job: T) -> Any:
        """Queue ``job``, return its result once it is committed (or raise its error)."""
        write = Write(job)
        with self._cond:
            self._queue.append(write)
            while self._leading and not write.done:
                self._cond.wait()
            if not write.done:
                self._leading = True
                batch, self._queue = self._queue, []
        if not write.done:
            try:
                self._commit_batch(batch)
            except BaseException as err:  # the commit itself failed: no write of the batch is durable
                for w in batch:
                    if w.error is None:
                        w.error = err
            finally:
                with self._cond:
                    for w in batch:
                        w.done = True
                    self._leading = False
                    self._cond.notify_all()
        if write.error is not None:
            raise write.error
        return write.result
