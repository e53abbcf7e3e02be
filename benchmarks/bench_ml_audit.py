"""Overhead of ``bctrace ml audit`` on a reproducible script: the audit runs the command N times
(default 2); what it adds on top is bctrace's own work (recording the first run, the launcher
and start-up hook in each run, hashing, comparing, recording and anchoring the audit). Target:
the time of N plain runs plus under 1 s.

Method: in a temporary project, a seeded scikit-learn script (a 50-tree random forest on 2,000
rows, writing a model and a metrics file) is run plainly (``python train.py``) and audited
(``bctrace ml audit --runs N``), alternately, --repeat times; medians are reported, and the
overhead is median(audit) - N x median(plain).

    .venv/bin/python benchmarks/bench_ml_audit.py [--runs 2] [--repeat 5]
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


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


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
        audit_cmd = [bctrace, "ml", "audit", "--runs", str(args.runs), "--model", "model.joblib", "--metrics", "metrics.json", "--", sys.executable, "train.py"]
        timed(plain_cmd, cwd, env), timed(audit_cmd, cwd, env)  # warm-up: page cache, first ledger
        plain, audit = [], []
        for _ in range(args.repeat):
            plain.append(timed(plain_cmd, cwd, env))
            audit.append(timed(audit_cmd, cwd, env))
    p, a = statistics.median(plain), statistics.median(audit)
    print(f"plain run of the script:        median {p:.3f} s  (min {min(plain):.3f}, max {max(plain):.3f})")
    print(f"ml audit --runs {args.runs}:              median {a:.3f} s  (min {min(audit):.3f}, max {max(audit):.3f})")
    print(f"bctrace's own work in the audit: {a - args.runs * p:.3f} s  (= audit - {args.runs} x plain)")


if __name__ == "__main__":
    main()
