"""``python -m benchmarks [--smoke] [--only SUITE ...] [--profile] [--scale N] [--out DIR]``

Runs every benchmark beside its baseline (and, for each target, beside its floor: the bare work
it cannot avoid) in the same run and writes ``<out>/<date>.json``, ``<date>.md`` and
``<date>-*.png``. ``--profile`` also records py-spy flame graphs of the hot paths
(``<date>-flame-*.svg``, linked from the table; ``--only profile`` records only them).
``--smoke`` runs tiny sizes (what the test suite runs, so that nothing rots; its numbers mean
nothing). Measure with the machine otherwise idle: the 1-minute load average is written beside
each row.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import chain, core, eas, flames, hashing, report
from .measure import ROOT, Results

SUITES = ("canonical", "merkle", "peers", "local", "startup", "hashing", "chain", "scale", "scripts", "profile")
DEFAULT_OFF = ("profile",)
"""Run only when asked (``--profile`` or ``--only profile``): py-spy is an extra (``bench``)."""
SCRIPTS = ("bench_l2_permissioned_gas.py",)
"""Standalone scripts run as they are (their printed table is kept in the JSON notes)."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, fast: checks that every benchmark still runs")
    ap.add_argument("--only", nargs="+", choices=SUITES, help="run only these suites")
    ap.add_argument("--scale", type=int, default=1_000_000, help="records of the scaling batch (default 1,000,000)")
    ap.add_argument("--hash-mb", type=int, default=1024, help="size of the hashed file in MiB (default 1024)")
    ap.add_argument("--profile", action="store_true", help="also record flame graphs of the hot paths (py-spy, extra 'bench')")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    smoke = args.smoke
    wanted = set(args.only or [s for s in SUITES if s not in DEFAULT_OFF and not (smoke and s == "scripts")])
    if args.profile:
        wanted.add("profile")
    stem = datetime.now(timezone.utc).strftime("%Y-%m-%d") + ("-smoke" if smoke else "") + "".join(f"-{s}" for s in args.only or ())
    res = Results(smoke=smoke)
    repeat = 1 if smoke else 3
    if "canonical" in wanted:
        core.canonical(res, 200 if smoke else 20_000, repeat)
    if "merkle" in wanted:
        core.keccak_bindings(res, 200 if smoke else 50_000, repeat)
        core.merkle(res, [2, 100] if smoke else [2, 100, 10_000, 65_536, 1_000_000], 50 if smoke else 5_000, repeat)
    if "peers" in wanted:
        core.peers(res, [100] if smoke else [1_000, 100_000], repeat)
    if "local" in wanted:
        core.record_local(res, [1, 50] if smoke else [1, 100, 10_000, 100_000], 20 if smoke else 5_000, 8)
    if "startup" in wanted:
        core.startup(res, 1 if smoke else 10)
    if "hashing" in wanted:
        hashing.hashing(res, 4 if smoke else args.hash_mb, repeat)
    if "chain" in wanted:
        node = chain.Chain()
        try:
            gas = chain.anchoring(res, node, [1, 20] if smoke else [1, 100, 10_000, 100_000], 3 if smoke else 200)
            eas.gas(res, node, gas, 2 if smoke else 20, 20 if smoke else 10_000)
            chain.verification(res, node, 10 if smoke else 10_000, repeat)
        finally:
            node.close()
    if "scale" in wanted:
        core.scale(res, 1_000 if smoke else args.scale)
    if "scripts" in wanted:
        for script in SCRIPTS:
            out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)], capture_output=True, text=True, check=True, cwd=ROOT)
            res.notes.append(f"`python benchmarks/{script}`:\n\n```\n{out.stdout.rstrip()}\n```")
    if "profile" in wanted:
        sizes = {"record": 300, "flush": 300, "verify": 30} if smoke else {"record": 100_000, "flush": 100_000, "verify": 10_000}
        flames.profile(res, args.out, stem, sizes)
    for path in report.write(res, args.out, stem):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
