"""Flame graphs of the hot paths, kept beside the results (``python -m benchmarks --profile``).

Each workload runs in a fresh process under py-spy (a sampling profiler that attaches from the
outside, so the profiled code runs unchanged); what the workload needs first (records to flush,
bundles to verify) is made by an earlier process that is not profiled. Each graph is an SVG
(``<stem>-flame-<name>.svg``, open it in a browser: hover for the share of samples, click to
zoom) linked from the Markdown table. py-spy needs to trace its child (ptrace): it works as root
and for one's own processes where ``kernel.yama.ptrace_scope`` allows it.

Run as ``python -m benchmarks.flames prepare|run WORKLOAD FOLDER N`` it is the workload itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .measure import ROOT, WALL, Results, Row

WORKLOADS = {
    "record": "record() x {n:,} in tracer.batch(), local ledger",
    "flush": "flush of {n:,} recorded records (tree, anchor on the local ledger)",
    "verify": "full verify of {n:,} bundles of one batch, local ledger",
    "help": "bctrace --help",
}


def _tracer(folder: Path):
    from bctrace import Tracer

    return Tracer.from_config(cwd=folder)


def prepare(workload: str, folder: Path, n: int) -> None:
    """What ``workload`` starts from: N pending records (flush), N bundles on disk (verify)."""
    if workload not in ("flush", "verify"):
        return
    with _tracer(folder) as tracer:
        bundles = {"bundle_dir": folder / "bundles"} if workload == "verify" else {}
        with tracer.batch():
            for i in range(n):
                tracer.record("bench", {"i": i, "sample": "a measured value", "ok": True}, **bundles)
        if workload == "verify":
            tracer.flush()


def run(workload: str, folder: Path, n: int) -> None:
    """The profiled work, nothing else."""
    with _tracer(folder) as tracer:
        if workload == "record":
            with tracer.batch():
                for i in range(n):
                    tracer.record("bench", {"i": i, "sample": "a measured value", "ok": True})
        elif workload == "flush":
            assert tracer.flush().records == n
        elif workload == "verify":
            bundles = sorted((folder / "bundles").glob("*.bctrace.json"))
            assert len(bundles) == n
            for path in bundles:
                tracer.verify(path)


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: pip install 'bctrace[bench]'")
    return found


def profile(res: Results, out: Path, stem: str, sizes: dict[str, int]) -> None:
    """One flame graph per workload, written to ``out`` and linked from a row of the table."""
    spy = py_spy()
    out.mkdir(parents=True, exist_ok=True)
    bctrace = shutil.which("bctrace", path=str(Path(sys.executable).parent)) or "bctrace"
    for workload, text in WORKLOADS.items():
        n = sizes.get(workload, 1)
        label = text.format(n=n)
        svg = out / f"{stem}-flame-{workload}.svg"
        with tempfile.TemporaryDirectory(prefix="bctrace-profile-") as tmp:
            own = [sys.executable, "-m", "benchmarks.flames"]
            if workload == "help":
                cmd, rate = [bctrace, "--help"], 1000  # a fraction of a second: sample densely
            else:
                subprocess.run([*own, "prepare", workload, tmp, str(n)], cwd=ROOT, check=True, capture_output=True)
                cmd, rate = [*own, "run", workload, tmp, str(n)], 250
            start = WALL()
            # --nonblocking: sample without pausing the process (paused at each sample, `bctrace
            # --help` ran 7x slower and its graph overweighted what runs longest under pauses)
            done = subprocess.run([spy, "record", "--nonblocking", "--rate", str(rate), "--output", str(svg), "--", *cmd],
                                  cwd=ROOT, capture_output=True, text=True)
            took = WALL() - start
        if done.returncode != 0 or not svg.is_file():
            raise SystemExit(f"py-spy could not profile {label}: {(done.stderr or done.stdout).strip()[-500:]}")
        samples = re.search(r"Samples: (\d+)", done.stdout + done.stderr)
        res.add(Row("profile", f"flame graph: {label}", took, "s", higher_is_better=False,
                    note=f"[{svg.name}]({svg.name}), {samples.group(1) if samples else '?'} samples at {rate}/s; "
                         "wall time under the profiler (sampling without pausing it)"))


if __name__ == "__main__":
    step, workload, folder, count = sys.argv[1:5]
    (prepare if step == "prepare" else run)(workload, Path(folder), int(count))
