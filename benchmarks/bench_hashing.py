"""Throughput of bctrace.hashing against sha256sum and plain hashlib, same file, same run.

Usage: ``.venv/bin/python benchmarks/bench_hashing.py [--size-mb 1024] [--repeat 3] [--file PATH]``

A random file (default 1 GiB) is written once and read once to warm the page cache, so every
contender reads from memory and the numbers compare hashing, not the disk. Each contender runs
``--repeat`` times; the best time is reported (the least disturbed by other load), in MB/s
(10^6 bytes per second). A folder case hashes the same bytes split into 16 files.

Contenders:
  sha256sum                    coreutils, one process
  hashlib.sha256 (1 MiB reads) the plain Python baseline
  bctrace sha256               bctrace._internal.hashing.hash_file, sha256 only (target >= 0.9x hashlib)
  bctrace sha256+blake3        same pass
  bctrace sha256+CID two passes   hash_file(sha256) then a second full pass for the CID
  bctrace sha256+CID one pass  the pipelined single pass (target: faster than two passes)
  Tracer.stamp(cid=True)+flush the whole stamp of the file on the embedded local ledger
  bctrace folder sha256 / +CID 16 files hashed in parallel
Then the peak RSS of a fresh process hashing the file (flat memory: it does not grow with size).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bctrace._internal.cid import CidParams, UnixFSBuilder  # noqa: E402
from bctrace._internal.hashing import hash_file  # noqa: E402
from bctrace._internal.manifest import build_manifest  # noqa: E402


def plain_hashlib(path: Path) -> None:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)


def cid_only_pass(path: Path) -> None:
    builder = UnixFSBuilder(CidParams())
    with path.open("rb") as fh:
        while chunk := fh.read(CidParams().chunk_size):
            builder.add_chunk(chunk)
    builder.root()


def peak_rss(path: Path | None) -> int:
    """Peak resident memory (MiB) of a fresh interpreter that imports bctrace and, if given,
    hashes ``path`` with every hash on: shows that memory does not grow with the file."""
    # VmHWM (not ru_maxrss, which a child inherits from its parent across fork + exec).
    code = "from bctrace.hashing import hash_file\n"
    if path is not None:
        code += f"hash_file({str(path)!r}, cid=True, blake3=True)\n"
    code += "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) // 1024)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    return int(out.strip())


def stamp(project: Path, path: Path) -> None:
    """The whole user path: hash (sha256 + CID in one pass), record, anchor, write the bundle."""
    from bctrace import Tracer
    from bctrace._internal.config import load_config

    with Tracer(load_config(cwd=project)) as tracer:
        tracer.stamp(path, cid=True)
        tracer.flush()


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (default 1024)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--file", type=Path, help="hash this file instead of a generated one")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bctrace-bench-") as tmp:
        path = args.file
        if path is None:
            path = Path(tmp) / "data.bin"
            with path.open("wb") as fh:
                for _ in range(args.size_mb):
                    fh.write(os.urandom(1 << 20))
        size = path.stat().st_size
        folder = Path(tmp) / "folder"
        folder.mkdir()
        part = size // 16
        with path.open("rb") as src:
            for i in range(16):
                (folder / f"part{i:02d}.bin").write_bytes(src.read(part))
        plain_hashlib(path)  # warm the page cache

        cases = {
            "sha256sum": lambda: subprocess.run(["sha256sum", str(path)], check=True, capture_output=True),
            "hashlib.sha256 (1 MiB reads)": lambda: plain_hashlib(path),
            "bctrace sha256": lambda: hash_file(path),
            "bctrace sha256+blake3": lambda: hash_file(path, blake3=True),
            "bctrace sha256+CID two passes": lambda: (hash_file(path), cid_only_pass(path)),
            "bctrace sha256+CID one pass": lambda: hash_file(path, cid=True),
            "Tracer.stamp(cid=True) + flush, local ledger": lambda: stamp(Path(tmp), path),
            "bctrace folder (16 files) sha256": lambda: build_manifest(folder),
            "bctrace folder (16 files) sha256+CID": lambda: build_manifest(folder, cid=True),
        }
        print(f"file: {size / 1e6:.0f} MB, cores: {os.cpu_count()}, python {sys.version.split()[0]}, best of {args.repeat}")
        results = {}
        for name, fn in cases.items():
            seconds = best(fn, args.repeat)
            results[name] = seconds
            print(f"{name:46s} {seconds:7.3f} s  {size / seconds / 1e6:8.0f} MB/s", flush=True)
        print(f"peak RSS, fresh process: import only {peak_rss(None)} MiB, "
              f"hash_file(sha256+blake3+CID) of the whole file {peak_rss(path)} MiB")
        base = results["hashlib.sha256 (1 MiB reads)"]
        print(f"bctrace sha256 / hashlib: {base / results['bctrace sha256']:.2f}x")
        print(f"sha256+CID one pass vs two passes: {results['bctrace sha256+CID two passes'] / results['bctrace sha256+CID one pass']:.2f}x faster")


if __name__ == "__main__":
    main()
