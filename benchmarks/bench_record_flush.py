"""Benchmark: record() + flush() of N records on the embedded local ledger.

Method: a fresh temporary project (no config: the local ledger), N calls of
``Tracer.record("bench", {"i": i, ...})``, either each one durable in the outbox before it
returns (one SQLite commit per record) or inside ``with tracer.batch():`` (one commit),
then one ``flush()`` (one Merkle tree, one anchor, no bundle files: bundles of un-stamped
records are produced on demand). Wall-clock time with ``time.perf_counter``; best of --repeat.

    .venv/bin/python benchmarks/bench_record_flush.py --records 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bctrace import Tracer


def run_once(n: int, grouped: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp, Tracer.from_config(cwd=Path(tmp)) as tracer:
        t0 = time.perf_counter()
        if grouped:
            with tracer.batch():
                for i in range(n):
                    tracer.record("bench", {"i": i, "sample": "a measured value", "ok": True})
        else:
            for i in range(n):
                tracer.record("bench", {"i": i, "sample": "a measured value", "ok": True})
        t1 = time.perf_counter()
        result = tracer.flush()
        t2 = time.perf_counter()
        assert result.records == n
        # one bundle on demand, to show the records are really provable
        tracer.verify(tracer.bundle(tracer.outbox.trace_digests(tracer.outbox._db.execute("SELECT trace FROM records LIMIT 1").fetchone()[0])[0]))
        return t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(f"records: {args.records}")
    for grouped in (False, True):
        best = None
        for _ in range(args.repeat):
            rec, fl = run_once(args.records, grouped)
            if best is None or rec + fl < sum(best):
                best = (rec, fl)
        assert best is not None
        rec, fl = best
        total = rec + fl
        label = "tracer.batch() (one commit)" if grouped else "record() each durable (one commit per record)"
        print(f"{label}:")
        print(f"  record(): {rec:.2f} s ({args.records / rec:,.0f} records/s, {rec / args.records * 1e6:.1f} us each)")
        print(f"  flush():  {fl:.2f} s (tree + 1 anchor)")
        print(f"  total:    {total:.2f} s -> {args.records / total:,.0f} records/s")


if __name__ == "__main__":
    main()
