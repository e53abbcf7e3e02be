"""Kill the process between any two steps of record/flush: nothing is lost, nothing anchored twice.

Each case runs a child Python that records, then flushes with one step patched to call
``os._exit`` (no cleanup, like a kill -9), then a second child that flushes normally.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHILD = textwrap.dedent(
    """
    import os, sys, json
    from pathlib import Path
    from bctrace import Tracer
    import bctrace._internal.outbox as ob, bctrace._internal.bundle as bd
    import bctrace_backends.local.backend as lb

    crash = sys.argv[1]
    folder = Path(sys.argv[2])

    def die_after(cls, name):
        original = getattr(cls, name)
        def wrapper(*a, **k):
            result = original(*a, **k)
            os._exit(9)
        setattr(cls, name, wrapper)

    def die_before(cls, name):
        def wrapper(*a, **k):
            os._exit(9)
        setattr(cls, name, wrapper)

    points = {
        "after-batch": lambda: die_after(ob.SQLiteOutbox, "next_batch"),
        "after-anchor-before-store": lambda: die_after(lb.LocalBackend, "anchor"),
        "after-store": lambda: die_after(ob.SQLiteOutbox, "add_anchor"),
        "mid-bundles": lambda: die_after(bd.ProofBundle, "write"),
        "before-finish": lambda: die_before(ob.SQLiteOutbox, "finish_batch"),
        "inside-bundle-write": lambda: setattr(bd.os, "replace", lambda *a: os._exit(9)),
        "none": lambda: None,
    }
    with Tracer.from_config(cwd=folder) as t:
        if sys.argv[3] == "record":
            for i in range(5):
                (folder / f"f{i}.txt").write_text(f"file {i}")
                t.stamp(folder / f"f{i}.txt")
            t.record("note", {"n": 1})
        points[crash]()
        t.flush()
    print(json.dumps({"ok": True}))
    """
)


def child(folder: Path, crash: str, record: bool) -> int:
    return subprocess.run(
        [sys.executable, "-c", CHILD, crash, str(folder), "record" if record else "flush"],
        capture_output=True, text=True, timeout=120,
    ).returncode


@pytest.mark.parametrize("crash", ["after-batch", "after-anchor-before-store", "after-store", "mid-bundles", "before-finish",
                                   "inside-bundle-write"])
def test_crash_between_steps_loses_nothing_and_anchors_once(tmp_path, crash):
    assert child(tmp_path, crash, record=True) == 9
    assert child(tmp_path, "none", record=False) == 0
    ledger = [json.loads(line) for line in (tmp_path / ".bctrace" / "ledger.jsonl").read_text().splitlines()]
    roots = [b["root"] for b in ledger[1:]]
    assert len(roots) == 1, f"anchored {len(roots)} times"

    from bctrace import Tracer

    with Tracer.from_config(cwd=tmp_path) as t:
        assert t.outbox.pending_count() == 0
        assert t.outbox.open_batches() == []
        for i in range(5):
            report = t.verify(tmp_path / f"f{i}.txt")
            assert report.ok and report.root == roots[0]


def test_temp_file_of_a_killed_bundle_write_matches_no_bundle_glob_and_goes_next_flush(tmp_path):
    assert child(tmp_path, "inside-bundle-write", record=True) == 9
    temps = [p.name for p in tmp_path.glob(".*.tmp")]
    assert len(temps) == 1 and temps[0].startswith(".f0.txt.bctrace.json.")
    assert list(tmp_path.glob("*.bctrace.json")) == []  # what a glob of bundles finds: no temp file
    assert child(tmp_path, "none", record=False) == 0
    assert list(tmp_path.glob(".*.tmp")) == []
    assert len(list(tmp_path.glob("*.bctrace.json"))) == 5


def test_crash_before_any_flush_keeps_records_pending(tmp_path):
    assert child(tmp_path, "after-batch", record=True) == 9
    from bctrace import Tracer

    with Tracer.from_config(cwd=tmp_path) as t:
        (batch,) = t.outbox.open_batches()
        assert batch.chains == ["local"]
        assert len(t.outbox.tree(batch.id)) == 6


APPENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bctrace import Tracer
    with Tracer.from_config(cwd=Path(sys.argv[1])) as t:
        for i in range(50):
            t.record("step", {"writer": sys.argv[2], "i": i}, trace="shared")
    """
)


def test_two_processes_appending_to_one_trace_keep_one_chain(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(tmp_path), w]) for w in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    from bctrace import Tracer

    with Tracer.from_config(cwd=tmp_path) as t:
        t.flush()
        digests = t.outbox.trace_digests("shared")
        assert len(digests) == 100
        t.verify_trace([t.bundle(d) for d in digests])


def _open_at_barrier(barrier, folder: str, results) -> None:
    from bctrace._internal.outbox import SQLiteOutbox

    barrier.wait()
    try:
        SQLiteOutbox(Path(folder)).close()
        results.put("ok")
    except Exception as err:  # reported to the parent, which fails the test with it
        results.put(repr(err))


def test_fresh_outbox_opened_by_four_processes_at_once_200_times(tmp_path):
    """The first open of an outbox switches it to WAL, which SQLite's busy handler does not
    wait for: without a lock, 'database is locked' came up in about 1 open in 30 here."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(200):
        barrier, results = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_open_at_barrier, args=(barrier, str(tmp_path / str(round_)), results)) for _ in range(4)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=120)
        failures += [o for o in outcomes if o != "ok"]
    assert failures == []
