"""Many threads calling ``record()`` on one Tracer: each record is durable when its call returns
(one group commit serves the records queued meanwhile), traces stay hash-chained, and a refused
record fails only its own call."""

from __future__ import annotations

import sqlite3
import threading

from bctrace import Tracer
from bctrace.errors import UsageError

THREADS = 8
PER_THREAD = 60


def test_eight_threads_record_on_one_tracer_every_record_durable_and_chained(project):
    durable_on_return: list[bool] = []
    with Tracer.from_config() as tracer:
        outbox_file = tracer.outbox.path
        errors: list[BaseException] = []
        traces = [tracer.trace() for _ in range(THREADS)]

        def work(t: int) -> None:
            try:
                with sqlite3.connect(outbox_file) as other:  # another connection sees only what is committed
                    for i in range(PER_THREAD):
                        rec = traces[t].record("step", {"t": t, "i": i})
                        row = other.execute("SELECT 1 FROM records WHERE digest = ?", (rec.digest,)).fetchone()
                        durable_on_return.append(row is not None)
            except BaseException as err:
                errors.append(err)

        pool = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
        for th in pool:
            th.start()
        for th in pool:
            th.join(120)
        assert not errors, errors
        assert len(durable_on_return) == THREADS * PER_THREAD and all(durable_on_return)
        for trace in traces:
            digests = tracer.outbox.trace_digests(trace.id)
            assert len(digests) == PER_THREAD
        result = tracer.flush()
        assert result.records == THREADS * PER_THREAD
        # every step links to the previous one of its trace
        for trace in traces:
            digests = tracer.outbox.trace_digests(trace.id)
            bundles = [tracer.bundle(d) for d in digests]
            tracer.verify_trace(bundles)


def test_a_refused_record_among_concurrent_ones_fails_alone(project):
    with Tracer.from_config() as tracer:
        outcomes: dict[int, object] = {}
        start = threading.Barrier(THREADS)

        def work(t: int) -> None:
            start.wait(30)
            try:
                outcomes[t] = tracer.record("step", {"value": float("nan") if t == 3 else t})
            except BaseException as err:
                outcomes[t] = err

        pool = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
        for th in pool:
            th.start()
        for th in pool:
            th.join(60)
        assert isinstance(outcomes[3], UsageError), outcomes[3]
        assert all(not isinstance(outcomes[t], BaseException) for t in range(THREADS) if t != 3)
        assert tracer.outbox.pending_count() == THREADS - 1
