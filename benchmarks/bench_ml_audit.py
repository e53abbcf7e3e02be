"""Overhead of ``bctrace ml audit`` on a reproducible script: the audit runs the command N times
(default 2); what it adds on top is bctrace's own work (recording the first run, the launcher
and start-up hook in each run, hashing, comparing, recording and anchoring the audit). Target:
the time of N plain runs plus under 1 s.

Method: in a temporary project, a seeded scikit-learn script (a 50-tree random forest on 2,000
rows, writing a model and a metrics file) is run plainly (``python train.py``), through bctrace's
launcher (``python -m bctrace.ml.child train.py``, as each audited run is), and audited
(``bctrace ml audit --runs N --json``), in turn, --repeat times; medians are reported. Overhead,
two ways: directly, median(audit) - N x median(plain); and decomposed, which holds up better on a
shared machine: (audit wall - the command runs' own time, as the audit measures them inside) +
N x (launcher - plain).

    .venv/bin/python benchmarks/bench_ml_audit.py [--runs 2] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = """
import json
import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier
rng = np.random.RandomState(0)
X = rng.rand(2000, 10)
y = (X[:, 0] + X[:, 1] > 1).astype(int)
model = RandomForestClassifier(n_estimators=50, random_state=0, n_jobs=1).fit(X, y)
joblib.dump(model, "model.joblib")
json.dump({"train_accuracy": model.score(X, y)}, open("metrics.json", "w"))
"""


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-500:]}")
    return time.perf_counter() - t0, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bctrace = str(Path(sys.executable).with_name("bctrace"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", "BCTRACE_CONFIG")}
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "train.py").write_text(SCRIPT)
        plain_cmd = [sys.executable, "train.py"]
        launcher_cmd = [sys.executable, "-m", "bctrace.ml.child", "train.py"]
        audit_cmd = [bctrace, "ml", "audit", "--json", "--runs", str(args.runs), "--model", "model.joblib", "--metrics", "metrics.json", "--", sys.executable, "train.py"]
        timed(plain_cmd, cwd, env), timed(audit_cmd, cwd, env)  # warm-up: page cache, first ledger
        plain, launcher, audit, inside = [], [], [], []
        for _ in range(args.repeat):
            plain.append(timed(plain_cmd, cwd, env)[0])
            launcher.append(timed(launcher_cmd, cwd, env)[0])
            wall, out = timed(audit_cmd, cwd, env)
            audit.append(wall)
            report = json.loads(out)
            assert report["verdict"] == "reproducible", report
            inside.append(wall - report["command_time_s"])
    p, l, a, i = (statistics.median(x) for x in (plain, launcher, audit, inside))
    print(f"plain run of the script:         median {p:.3f} s  (min {min(plain):.3f}, max {max(plain):.3f})")
    print(f"run through bctrace's launcher:  median {l:.3f} s  (min {min(launcher):.3f}, max {max(launcher):.3f})")
    print(f"ml audit --runs {args.runs}:               median {a:.3f} s  (min {min(audit):.3f}, max {max(audit):.3f})")
    print(f"bctrace's own work, directly:    {a - args.runs * p:.3f} s  (= audit - {args.runs} x plain)")
    print(f"bctrace's own work, decomposed:  {i + args.runs * (l - p):.3f} s  (= {i:.3f} s outside the command runs + {args.runs} x {l - p:.3f} s launcher)")


if __name__ == "__main__":
    main()
