"""Benchmarks of bctrace's own CPU work, each beside the machine's limit or the plain library:
canonical JSON, keccak bindings, Merkle tree and proof checks, record()/flush() on the local
ledger, and start-up time of the command line."""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

from . import floors
from .measure import CPU, ROOT, WALL, Results, Row, timed


def _sample_record() -> dict:
    """A record as bctrace builds it: one subject, a small body with a float, a salt."""
    from bctrace._internal.record import Record, Subject

    subject = Subject(name="data.csv", sha256="0x" + "ab" * 32, size=1234)
    body = {"i": 12345, "sample": "a measured value", "ok": True, "loss": 0.2345, "params": {"lr": 0.001, "layers": [64, 32]}}
    rec = Record(kind="bench", trace="0" * 32, seq=3, prev="0x" + "01" * 32, created=datetime(2026, 1, 2, tzinfo=timezone.utc),
                 subjects=(subject,), body=body, salt="00" * 16)
    return rec.to_json_dict()


def canonical(res: Results, n: int, repeat: int) -> None:
    """RFC 8785 bytes of a typical record: the fast path vs the ``rfc8785`` package."""
    import rfc8785

    from bctrace._internal.canonical import fast_canonical

    data = _sample_record()
    assert fast_canonical(data) == rfc8785.dumps(data)
    fast = timed(lambda: [fast_canonical(data) for _ in range(n)], repeat, CPU)
    ref = timed(lambda: [rfc8785.dumps(data) for _ in range(n)], repeat, CPU)
    res.add(Row("canonical", "canonical JSON of a record (fast path)", n / fast, "records/s", "rfc8785.dumps", n / ref))


def keccak_bindings(res: Results, n: int, repeat: int) -> None:
    """keccak256 of 64 bytes (one Merkle node) through each binding installed."""
    import sha3

    data = os.urandom(64)
    ours = n / timed(lambda: [sha3.keccak_256(data).digest() for _ in range(n)], repeat, CPU)
    others = {}
    try:
        from Crypto.Hash import keccak as crypto_keccak

        others["pycryptodome"] = lambda: [crypto_keccak.new(digest_bits=256, data=data).digest() for _ in range(n)]
    except ImportError:
        pass
    try:
        from eth_hash.auto import keccak as eth_keccak

        others["eth-hash (auto backend)"] = lambda: [eth_keccak(data) for _ in range(n)]
    except ImportError:
        pass
    for name, fn in others.items():
        res.add(Row("keccak", "keccak256 of 64 bytes, safe-pysha3 (used)", ours, "hashes/s", name, n / timed(fn, repeat, CPU)))
    sha = n / timed(lambda: [hashlib.sha256(data).digest() for _ in range(n)], repeat, CPU)
    res.add(Row("keccak", "keccak256 of 64 bytes, safe-pysha3 (used)", ours, "hashes/s", "hashlib.sha256 (reference)", sha))


def merkle(res: Results, sizes: list[int], checks: int, repeat: int) -> None:
    """Tree build and proof checks at each batch size, beside bare keccak loops doing the same
    number of hashes (the limit: what no Python tree code can beat)."""
    import sha3

    from bctrace._internal.bundle import MerkleProofInfo, ProofBundle
    from bctrace._internal.hexutil import to_0x
    from bctrace._internal.merkle import MerkleTree, root_from_proof
    from bctrace._internal.record import digest_of_json
    from bctrace._internal.verify import check_offline

    k = sha3.keccak_256
    record = _sample_record()
    digest = digest_of_json(record)
    for n in sizes:
        digests = [digest, *(os.urandom(32) for _ in range(n - 1))]
        build = timed(lambda: MerkleTree(digests), repeat, CPU)
        pairs = [os.urandom(64)] * (3 * n - 1)
        bare = timed(lambda: [k(p).digest() for p in pairs], repeat, CPU)
        res.add(Row("merkle", f"tree build, {n:,} leaves", n / build, "leaves/s", f"bare keccak x {3 * n - 1:,} (limit)", n / bare,
                    note="bare = 3n-1 keccak256 calls in a loop, the hashes a tree needs (2 per leaf, 1 per inner node)"))
        res.point("tree", "MerkleTree build", n, n / build, x_label="batch size (records)", y_label="leaves/s")
        tree = MerkleTree(digests)
        proof = tree.proof(digest)
        bundle = ProofBundle(record=record, digest=to_0x(digest), merkle=MerkleProofInfo(root=to_0x(tree.root), proof=[to_0x(p) for p in proof]))
        fold = timed(lambda: [root_from_proof(digest, proof) for _ in range(checks)], repeat, CPU)
        offline = timed(lambda: [check_offline(bundle, "bench") for _ in range(checks)], repeat, CPU)
        steps = [os.urandom(64)] * (len(proof) + 2)
        limit = timed(lambda: [[k(s).digest() for s in steps] for _ in range(checks)], repeat, CPU)
        res.add(Row("merkle", f"proof fold, {len(proof)}-level proof", checks / fold, "proofs/s", "bare keccak loop (limit)", checks / limit))
        res.add(Row("verify", f"offline check (digest + {len(proof)}-level proof), {n:,}-record batch", checks / offline, "bundles/s",
                    "proof fold alone", checks / fold, target=">= 80,000/s per core at 16 levels" if len(proof) == 16 else None,
                    target_value=80_000 if len(proof) == 16 else None))
        floor = floors.offline_check(record, len(proof), checks, repeat)
        res.add(Row("verify", f"offline check ({len(proof)}-level proof) beside its floor", checks / offline, "bundles/s",
                    f"floor: C JSON encoder + sha256 + {len(proof) + 2} keccak256", floor,
                    note=floors.target_note(80_000, floor, "checks/s") if len(proof) == 16 else ""))
        res.point("verify-time", "offline check (canonical digest + Merkle proof)", n, offline / checks * 1e6,
                  x_label="batch size (records)", y_label="µs per bundle (grows with log2 N)")
        res.point("verify-time", "Merkle proof fold alone", n, fold / checks * 1e6)
        res.point("verify-time", "floor: C JSON encoder + sha256 + keccak loop", n, 1e6 / floor)


def _tracer(tmp: Path):
    from bctrace import Tracer

    return Tracer.from_config(cwd=tmp)


def record_local(res: Results, sizes: list[int], durable: int, threads: int) -> None:
    """record() + flush() on the embedded local ledger at each batch size, grouped (one commit)
    vs each record durable; and each-durable record() from several threads."""
    body = {"sample": "a measured value", "ok": True}
    with tempfile.TemporaryDirectory() as tmp, _tracer(Path(tmp)) as tracer:  # warm up: first-use imports
        tracer.record("bench", body)
        tracer.flush()
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp, _tracer(Path(tmp)) as tracer:
            start = WALL()
            with tracer.batch():
                for i in range(n):
                    tracer.record("bench", {"i": i, **body})
            recorded = WALL()
            result = tracer.flush()
            done = WALL()
            assert result.records == n
            tracer.verify(tracer.bundle(result_digest(tracer)))
            stored = stored_records(tracer, n) if n == max(sizes) else []
        res.add(Row("local", f"record() in tracer.batch() + flush, {n:,} records", n / (done - start), "records/s",
                    note=f"record {n / (recorded - start):,.0f}/s, flush {done - recorded:.3f} s"))
        res.point("records-per-second", "bctrace, local ledger (record + flush)", n, n / (done - start),
                  x_label="batch size (records)", y_label="records/s end to end")
    floor = floors.record_floor(stored)
    for row in floors.record_floor_rows("local", f"record() alone in tracer.batch(), {n:,} records", n / (recorded - start), floor, n):
        res.add(row)
    res.point("records-per-second", "floor of record(): canonical + storage steps (local run)", n, floor["both"])
    with tempfile.TemporaryDirectory() as tmp, _tracer(Path(tmp)) as tracer:
        start = WALL()
        for i in range(durable):
            tracer.record("bench", {"i": i, **body})
        single = durable / (WALL() - start)
    with tempfile.TemporaryDirectory() as tmp, _tracer(Path(tmp)) as shared:
        per = max(1, durable // threads)

        failures: list[BaseException] = []

        def work(t: int) -> None:
            try:
                for i in range(per):
                    shared.record("bench", {"t": t, "i": i, **body})
            except Exception as err:  # an outbox without group commit cannot share its connection
                failures.append(err)

        pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        start = WALL()
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        many = per * threads / (WALL() - start)
        if failures:
            res.notes.append(f"local: {threads} threads on one Tracer failed: {failures[0]}")
            return
        assert shared.outbox.pending_count() == per * threads
    res.add(Row("local", f"record() each durable, {threads} threads on one Tracer (group commit)", many, "records/s", "one thread", single,
                target=">= 20,000/s from 8 threads (group commit)", target_value=20_000,
                note="each call returns once its record is committed; one commit serves the records queued meanwhile"))
    rows = floors.outbox_rows(stored[:durable])
    per_commit = floors.commit_per_row(rows)
    res.add(Row("local", f"record() each durable, {threads} threads on one Tracer (group commit)", many, "records/s",
                "floor: bare sqlite3, one thread, INSERT + COMMIT per row", per_commit,
                note="the outbox's pragmas (WAL, synchronous=NORMAL: a commit writes the WAL, no fsync); "
                     + floors.target_note(20_000, per_commit, "records/s") + "; group commit can pass this floor only by "
                     "sharing commits"))
    shared_commits = floors.commit_per_row(rows, rows_per_commit=threads)
    res.add(Row("local", f"record() each durable, {threads} threads on one Tracer (group commit)", many, "records/s",
                f"floor: bare sqlite3, {threads} rows per commit", shared_commits,
                note=f"the best group commit can do for {threads} threads that each wait for their record: every commit holds all "
                     f"{threads}, no Python work; " + floors.target_note(20_000, shared_commits, "records/s")))
    fsynced = rows[: max(1, len(rows) // 10)]
    res.add(Row("local", f"floor: bare sqlite3, one thread, INSERT + COMMIT per row, synchronous=FULL ({len(fsynced):,} rows)",
                floors.commit_per_row(fsynced, "FULL"), "rows/s", "synchronous=NORMAL (the outbox's)", per_commit,
                note="FULL fsyncs every commit (survives power loss); the outbox uses NORMAL (survives a process crash)"))


def stored_records(tracer, n: int) -> list[dict]:
    """``n`` records of the shape the outbox just stored (its first record, with ``seq`` and the
    body's ``i`` varied): the input of the floors, so they hash and store what bctrace did."""
    import json

    template = json.loads(tracer.outbox._db.execute("SELECT record FROM records ORDER BY id LIMIT 1").fetchone()[0])
    return [{**template, "seq": i, "body": {**template["body"], "i": i}} for i in range(n)]


def result_digest(tracer) -> bytes:
    """Some anchored record's digest (to show a bundle is produced and verifies)."""
    return tracer.outbox._db.execute("SELECT digest FROM records LIMIT 1").fetchone()[0]


def startup(res: Results, repeat: int) -> None:
    """Wall time of ``bctrace --help`` and of ``bctrace verify`` of one bundle, each a fresh
    process, beside a bare ``python -c pass`` (the interpreter's own start)."""
    exe = shutil.which("bctrace", path=str(Path(sys.executable).parent)) or "bctrace"
    with tempfile.TemporaryDirectory() as tmp, _tracer(Path(tmp)) as tracer:
        rec = tracer.record("bench", {"i": 1}, bundle_dir=Path(tmp) / "b")
        tracer.flush()
        bundle = Path(tmp) / "b" / f"{rec.digest_hex}.bctrace.json"

        # As installed from a wheel (pip compiles it): without bytecode files, every start would
        # compile bctrace's modules again (1.25x slower), so the warm-up run may write them.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

        def run(*cmd: str) -> None:
            subprocess.run(cmd, cwd=tmp, check=True, capture_output=True, env=env)

        def child_cpu() -> float:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime

        run(sys.executable, "-c", "pass")
        floor = timed(lambda: run(sys.executable, "-c", "pass"), repeat)
        floor_cpu = timed(lambda: run(sys.executable, "-c", "pass"), repeat, child_cpu)
        for case, cmd in (("bctrace --help", [exe, "--help"]), ("bctrace verify (one bundle, local ledger)", [exe, "verify", str(bundle)])):
            run(*cmd)
            took = timed(lambda cmd=cmd: run(*cmd), repeat)
            cpu = timed(lambda cmd=cmd: run(*cmd), repeat, child_cpu)
            res.add(Row("startup", f"{case}: wall", took * 1000, "ms", "python -c pass", floor * 1000, higher_is_better=False,
                        target="< 150 ms with every extra installed", target_value=150))
            res.add(Row("startup", f"{case}: CPU (user + sys, less disturbed by load)", cpu * 1000, "ms", "python -c pass", floor_cpu * 1000,
                        higher_is_better=False))


def scale(res: Results, n: int) -> None:
    """A batch of ``n`` records in a fresh process: record, flush (tree + anchor), one bundle on
    demand and its verification, with the process's peak memory (VmHWM)."""
    code = f"""
import tempfile, time
from pathlib import Path
from bctrace import Tracer
n = {n}
with tempfile.TemporaryDirectory() as tmp, Tracer.from_config(cwd=Path(tmp)) as t:
    t0 = time.perf_counter()
    with t.batch():
        for i in range(n):
            t.record("bench", {{"i": i}})
    t1 = time.perf_counter()
    t.flush()
    t2 = time.perf_counter()
    d = t.outbox._db.execute("SELECT digest FROM records ORDER BY id DESC LIMIT 1").fetchone()[0]
    b = t.bundle(d)
    t3 = time.perf_counter()
    assert t.verify(b).ok
    t4 = time.perf_counter()
hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) // 1024
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, hwm)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()
    rec, flush, bundle, verify, hwm = (float(x) for x in out)
    res.add(Row("scale", f"{n:,}-record batch: peak memory of the whole process", hwm, "MiB", higher_is_better=False,
                target="< 1 GB (1,024 MiB) at 1,000,000 records" if n >= 1_000_000 else None,
                target_value=1024 if n >= 1_000_000 else None,
                note=f"record {rec:.1f} s ({n / rec:,.0f}/s), flush {flush:.1f} s, one bundle on demand {bundle * 1000:.0f} ms, its verify {verify * 1000:.1f} ms"))
    res.add(Row("scale", f"{n:,}-record batch: flush (tree + anchor + finish)", flush, "s", higher_is_better=False))


def peers(res: Results, sizes: list[int], repeat: int) -> None:
    """OpenTimestamps' local aggregation (``make_merkle_tree`` over one ``Timestamp`` per digest,
    what its calendar and client do before one commitment) beside bctrace's tree, same digests."""
    try:
        from opentimestamps.core.timestamp import Timestamp, make_merkle_tree
    except ImportError:
        res.notes.append("peers: OpenTimestamps is not installed (pip install opentimestamps), its aggregation was not measured")
        return
    from bctrace._internal.merkle import MerkleTree

    for n in sizes:
        digests = [os.urandom(32) for _ in range(n)]
        ours = timed(lambda: MerkleTree(digests), repeat, CPU)
        theirs = timed(lambda: make_merkle_tree([Timestamp(d) for d in digests]), repeat, CPU)
        res.add(Row("peers", f"aggregate {n:,} digests into one root (with every proof)", n / ours, "digests/s",
                    "OpenTimestamps make_merkle_tree", n / theirs, note="OTS: sha256, one Timestamp object per node; bctrace: keccak, flat lists"))
