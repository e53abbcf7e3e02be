"""Cost of capturing an ML run (target: under 200 ms, excluding importing torch).

Measures, in this process after one warm-up: capture of code (git: 3 calls), of the environment
(every installed distribution, lockfiles, hardware, thread pools), of randomness, and a whole run
(start step + end step with checklist, written to the outbox of a temp local ledger) with one
input file. Then the same whole run once, cold, in a fresh interpreter (first call pays for
imports and filesystem caches). Reports median and max over --repeat runs.

    .venv/bin/python benchmarks/bench_ml_capture.py [--repeat 20] [--root PATH]

``--root`` is the project folder whose git state is captured (default: the current folder).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def whole_run(root: Path) -> Callable[[], object]:
    from bctrace import Tracer

    state = Path(tempfile.mkdtemp(prefix="bench-ml-"))
    data = state / "train.csv"
    data.write_bytes(os.urandom(1 << 20))  # 1 MiB input

    def go() -> object:
        with Tracer.from_config(cwd=state) as tracer:
            with tracer.run("bench", params={"lr": 0.1}, seed=1, root=root) as run:
                run.log_input(data, role="train")
                run.log_metrics({"acc": 0.9})
        return run

    return go


COLD = """
import time, sys
t0 = time.perf_counter()
import bctrace.ml  # noqa
t1 = time.perf_counter()
from bctrace.ml.capture import capture_code, capture_environment
from bctrace.ml.randomness import capture_randomness
capture_code(sys.argv[1]); capture_environment(sys.argv[1]); capture_randomness()
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args()
    from bctrace.ml.capture import capture_code, capture_environment
    from bctrace.ml.randomness import capture_randomness

    rows = {
        "capture_code (git)": timed(lambda: capture_code(args.root), args.repeat),
        "capture_environment": timed(lambda: capture_environment(args.root), args.repeat),
        "capture_randomness": timed(capture_randomness, args.repeat),
        "whole run (start+end, 1 MiB input)": timed(whole_run(args.root), args.repeat),
    }
    env = capture_environment(args.root)
    print(f"python {sys.version.split()[0]}, {len(env['packages'])} distributions, {os.cpu_count()} CPUs, torch imported: {'torch' in sys.modules}")
    print(f"{'step':40} {'median ms':>10} {'max ms':>10}")
    for name, values in rows.items():
        print(f"{name:40} {statistics.median(values):10.1f} {max(values):10.1f}")
    cold = subprocess.run([sys.executable, "-c", COLD, str(args.root)], capture_output=True, text=True, check=True).stdout.split()
    print(f"{'cold process: import bctrace.ml':40} {float(cold[0]):10.1f}")
    print(f"{'cold process: first full capture':40} {float(cold[1]):10.1f}")


if __name__ == "__main__":
    main()
