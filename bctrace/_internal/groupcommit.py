"""Group commit: many threads each wait for their own write to be durable, one commit serves all.

A thread that wants its write committed queues it. If no commit is running, it becomes the
leader: it takes every write queued so far, commits them together (one transaction, one sync),
then wakes their threads. Threads that queued while a commit was running wait; when the leader is
done it hands the lead to the first of them, which commits everything queued meanwhile. So under
contention the batches grow by themselves, and with one thread nothing waits: each write is its
own commit, as before.

Each waiting thread sleeps on a lock of its own, released once: when its write is done, or when
it is handed the lead. One wake-up per write, never all waiters woken to race for the lead (with
the GIL, such a herd of wake-ups cost more than the commits they wait for, and the commits stayed
of one write each).

Each write's own failure (say, a duplicate record) goes back to that write's thread only; a
failed commit fails every write of its batch. This module knows nothing of SQLite: the outbox
passes the function that commits a batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


GATHER_DELAY = 0.001
"""Longest a commit waits for the threads of the last one to queue their next writes (seconds).
With the GIL, a thread back from a commit usually runs on alone: without this wait it would
commit each of its own writes alone while the other threads wait for the GIL (PostgreSQL's
``commit_delay`` does the same for the same reason). A single writer never waits."""


class Write(Generic[T]):
    """One queued write; ``commit_batch`` sets ``result`` or ``error`` on each."""

    __slots__ = ("done", "error", "job", "result", "wake")

    def __init__(self, job: T) -> None:
        self.job = job
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.wake = threading.Lock()
        """Held while the write waits; released once (done, or handed the lead)."""


class GroupCommitter(Generic[T]):
    """Runs ``commit_batch(writes)`` for batches of queued writes, one batch at a time."""

    def __init__(self, commit_batch: Callable[[list[Write[T]]], None], *, delay: float = GATHER_DELAY) -> None:
        self._commit_batch = commit_batch
        self._mutex = threading.Lock()
        self._gathered = threading.Condition(self._mutex)
        self._queue: list[Write[T]] = []
        self._leading = False
        self._delay = delay
        self._expect = 1
        """Writes the next commit waits for: as many as the last one had (their threads are
        likely writing again), fewer once they stop coming."""

    def submit(self, job: T) -> Any:
        """Queue ``job``, return its result once it is committed (or raise its error)."""
        write = Write(job)
        with self._mutex:
            self._queue.append(write)
            follow = self._leading
            self._leading = True
            if follow:
                write.wake.acquire()
                if len(self._queue) >= self._expect:
                    self._gathered.notify()
        if follow:
            with write.wake:  # sleeps until done or handed the lead
                pass
        if not write.done:
            self._lead()
        if write.error is not None:
            raise write.error
        return write.result

    def _lead(self) -> None:
        """Commit everything queued, then hand the lead to the first write queued meanwhile."""
        batch: list[Write[T]] = []
        try:
            with self._mutex:
                try:
                    if not self._gathered.wait_for(lambda: len(self._queue) >= self._expect, self._delay):
                        self._expect = max(1, len(self._queue))
                finally:  # also when interrupted: every queued write ends, done or failed
                    batch, self._queue = self._queue, []
                    self._expect = max(self._expect, len(batch))
            self._commit_batch(batch)
        except BaseException as err:  # the commit itself failed: no write of the batch is durable
            for w in batch:
                if w.error is None:
                    w.error = err
        with self._mutex:
            successor = self._queue[0] if self._queue else None
            self._leading = successor is not None
        for w in batch:
            w.done = True
            if w.wake.locked():
                w.wake.release()
        if successor is not None:
            successor.wake.release()  # not done: it leads the next commit
