"""GroupCommitter: concurrent writes share commits; each write's result or error reaches its own
thread; a failed commit fails its whole batch and nothing else."""

from __future__ import annotations

import threading
import time

import pytest

from bctrace._internal.groupcommit import GroupCommitter, Write


def wait_until(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def one_then_the_rest(delay: float, jobs: int) -> tuple[GroupCommitter[int], list[list[int]], dict[int, int]]:
    """A committer whose first commit (of job 0 alone) is held until jobs 1.. have all queued
    behind it; returns it with the batches committed and each job's result."""
    batches: list[list[int]] = []
    release = threading.Event()

    def commit(batch: list[Write[int]]) -> None:
        if not batches:
            release.wait(10)  # hold the first commit until every other thread has queued
        batches.append(sorted(w.job for w in batch))
        for w in batch:
            w.result = w.job * 10

    committer: GroupCommitter[int] = GroupCommitter(commit, delay=delay)
    results: dict[int, int] = {}
    first = threading.Thread(target=lambda: results.__setitem__(0, committer.submit(0)))
    first.start()
    wait_until(lambda: committer._leading)
    others = [threading.Thread(target=lambda i=i: results.__setitem__(i, committer.submit(i))) for i in range(1, jobs)]
    for t in others:
        t.start()
    wait_until(lambda: len(committer._queue) == jobs - 1)
    release.set()
    for t in [first, *others]:
        t.join(10)
    return committer, batches, results


def test_writes_queued_during_a_commit_share_the_next_one_and_each_gets_its_result():
    _, batches, results = one_then_the_rest(0.001, 8)
    assert results == {i: i * 10 for i in range(8)}
    assert batches == [[0], list(range(1, 8))]


def test_one_writes_error_reaches_only_its_thread():
    def commit(batch: list[Write[int]]) -> None:
        for w in batch:
            if w.job == 2:
                w.error = ValueError("duplicate")
            else:
                w.result = w.job

    committer: GroupCommitter[int] = GroupCommitter(commit)
    assert committer.submit(1) == 1
    with pytest.raises(ValueError, match="duplicate"):
        committer.submit(2)
    assert committer.submit(3) == 3


def test_a_failed_commit_fails_its_batch_and_the_next_commit_runs():
    calls = []

    def commit(batch: list[Write[int]]) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            raise OSError("disk full")
        for w in batch:
            w.result = "ok"

    committer: GroupCommitter[int] = GroupCommitter(commit)
    with pytest.raises(OSError, match="disk full"):
        committer.submit(1)
    assert committer.submit(2) == "ok"


def test_many_threads_many_writes_every_result_once():
    seen: list[int] = []
    lock = threading.Lock()

    def commit(batch: list[Write[int]]) -> None:
        with lock:
            seen.extend(w.job for w in batch)
        for w in batch:
            w.result = w.job

    committer: GroupCommitter[int] = GroupCommitter(commit)
    out: list[list[int]] = [[] for _ in range(8)]

    def work(t: int) -> None:
        for i in range(300):
            out[t].append(committer.submit(t * 1000 + i))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(seen) == sorted(t * 1000 + i for t in range(8) for i in range(300))
    assert all(out[t] == [t * 1000 + i for i in range(300)] for t in range(8))


def test_a_commit_gathers_as_many_writes_as_the_last_one_had_and_a_lone_writer_never_waits():
    # With the GIL a thread back from a commit would otherwise commit its next write alone while
    # the others wait to run: the next commit waits (up to `delay`) for as many writes as the last.
    committer, batches, _ = one_then_the_rest(60, 4)
    assert batches == [[0], [1, 2, 3]]
    again = [threading.Thread(target=committer.submit, args=(i,)) for i in (4, 5, 6)]
    for t in again:
        t.start()
    for t in again:
        t.join(30)
    assert batches[2:] == [[4, 5, 6]]  # one commit for the three, however they were scheduled

    lone: GroupCommitter[int] = GroupCommitter(lambda batch: None, delay=60)
    started = time.monotonic()
    for i in range(20):
        lone.submit(i)
    assert time.monotonic() - started < 30  # never waited out the delay (20 waits: 20 minutes)
