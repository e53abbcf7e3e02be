"""Benchmark: the cost of typed kinds and private fields at record time.

Method: a fresh temporary project (the local ledger), N records inside one ``tracer.batch()``
(one outbox commit), of three shapes with the same four-field body: a free kind (no model), a
typed ``donation`` with its donor in clear (``public=["donor"]``: the pydantic check only), and
a typed ``donation`` with donor and amount private (check + two salted disclosures + one
fsynced mode-600 file per record in ``STATE_DIR/disclosures/``). Wall clock with
``time.perf_counter`` around the N ``record()`` calls; best of --repeat. Then one shared bundle
is disclosed and verified, to show the records are real.

    .venv/bin/python benchmarks/bench_private_fields.py --records 2000 --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bctrace import Tracer

BODY = {"donor": "A. Donor", "recipient": "school-fund", "amount": "25", "currency": "EUR"}
SHAPES: dict[str, tuple[str, dict[str, Any]]] = {
    "free kind (no model)": ("bench", {}),
    "donation, donor in clear (model check)": ("donation", {"public": ["donor"]}),
    "donation, donor + amount private": ("donation", {"private": ["amount"]}),
}


def run_once(n: int, kind: str, options: dict[str, Any]) -> float:
    with tempfile.TemporaryDirectory() as tmp, Tracer.from_config(cwd=Path(tmp)) as tracer:
        tracer.record("warm-up", {})  # build the kinds registry and open the outbox outside the timing
        t0 = time.perf_counter()
        with tracer.batch():
            for _ in range(n):
                last = tracer.record(kind, dict(BODY), **options)
        elapsed = time.perf_counter() - t0
        tracer.flush()
        shared = tracer.disclose(tracer.bundle(last.digest), ["amount"]) if "private" in options else tracer.bundle(last.digest)
        tracer.verify(shared)
        return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"records: {args.records} per shape, one tracer.batch(), best of {args.repeat}")
    for label, (kind, options) in SHAPES.items():
        best = min(run_once(args.records, kind, options) for _ in range(args.repeat))
        print(f"  {label}: {best:.2f} s ({args.records / best:,.0f} records/s, {best / args.records * 1e6:.0f} us each)")


if __name__ == "__main__":
    main()
