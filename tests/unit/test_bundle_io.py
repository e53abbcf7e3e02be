"""Reading and writing bundles at speed without losing a check (issue 16): a flush lists each
bundle folder once for stale temp files (not once per bundle), stale temps still go, a bundle
file is read without allocating the size limit, hex fields are checked whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest

from bctrace._internal.atomicfile import StaleTempSweep
from bctrace._internal.boundedread import read_bounded
from bctrace._internal.bundle import BUNDLE_SUFFIX, MerkleProofInfo, ProofBundle
from bctrace.errors import BundleError


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_a_flush_of_many_bundles_lists_their_folder_once(project, monkeypatch):
    from bctrace import Tracer

    (project / "bctrace.toml").write_text('bundle_dir = "bundles"\n')
    folder = project / "bundles"
    listings: list[str] = []
    scandir = os.scandir

    def counting(path="."):  # type: ignore[no-untyped-def]
        if Path(path).resolve() == folder.resolve():
            listings.append(str(path))
        return scandir(path)

    with Tracer.from_config() as tracer:
        with tracer.batch():
            for i in range(25):
                tracer.record("note", {"i": i})
        monkeypatch.setattr(os, "scandir", counting)
        result = tracer.flush()
    assert len(result.bundles) == 25
    assert len(listings) == 1, f"the bundle folder was listed {len(listings)} times for 25 bundles"


def test_stale_temps_go_and_live_or_foreign_files_stay(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = tmp_path / f".0xab{BUNDLE_SUFFIX}.{dead}.k2j_x9q1.tmp"
    live = tmp_path / f".0xcd{BUNDLE_SUFFIX}.{alive}.a8b3k0zz.tmp"
    foreign = [tmp_path / f".notes.txt.{dead}.abc.tmp", tmp_path / f".cache.{dead}.tmp",
               tmp_path / f".0xef{BUNDLE_SUFFIX}.{'9' * 30}.abc.tmp"]  # not a pid any process can have
    for f in (stale, live, *foreign):
        f.write_text("")
    sweep = StaleTempSweep(BUNDLE_SUFFIX)
    sweep(tmp_path / ("0x01" + BUNDLE_SUFFIX))
    assert sweep.removed == [stale]
    assert not stale.exists() and live.exists() and all(f.exists() for f in foreign)


def test_a_write_sweeps_stale_temps_of_other_bundles_in_its_folder(tmp_path):
    stale = tmp_path / f".0xab{BUNDLE_SUFFIX}.{_dead_pid()}.k2j_x9q1.tmp"
    stale.write_text("")
    bundle = ProofBundle(record={"kind": "x"}, digest="0x" + "a" * 64, merkle=MerkleProofInfo(root="0x" + "a" * 64, proof=[]))
    bundle.write(tmp_path / ("0xcd" + BUNDLE_SUFFIX), sweep=ProofBundle.sweeper())
    assert not stale.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["0xcd" + BUNDLE_SUFFIX]


@pytest.mark.parametrize("shared", [True, False])
def test_a_bundle_of_another_name_sweeps_its_own_stale_temps(tmp_path, shared):
    """``record(..., bundle_path=...)`` and ``bctrace bundle -o`` may name a bundle anything."""
    stale = tmp_path / f".proof.json.{_dead_pid()}.k2j_x9q1.tmp"
    other = tmp_path / f".notes.json.{_dead_pid()}.k2j_x9q1.tmp"
    stale.write_text("")
    other.write_text("")
    bundle = ProofBundle(record={"kind": "x"}, digest="0x" + "a" * 64, merkle=MerkleProofInfo(root="0x" + "a" * 64, proof=[]))
    sweep = ProofBundle.sweeper() if shared else None
    if sweep is not None:
        bundle.write(tmp_path / ("0xcd" + BUNDLE_SUFFIX), sweep=sweep)  # lists the folder first
    bundle.write(tmp_path / "proof.json", sweep=sweep)
    assert not stale.exists() and other.exists()


def test_reading_a_small_bundle_does_not_allocate_the_size_limit(tmp_path):
    path = tmp_path / "small.bctrace.json"
    path.write_bytes(b"x" * 5000)
    tracemalloc.start()
    try:
        raw = read_bounded(path, 64 * 1024 * 1024, "bundle", BundleError)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw == b"x" * 5000
    assert peak < 1024 * 1024, f"reading 5 kB allocated {peak:,} bytes at peak"


def test_a_pipe_is_read_whole_and_refused_beyond_the_limit(tmp_path):
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)

    def feed(data: bytes) -> threading.Thread:
        def run() -> None:
            try:
                with open(fifo, "wb") as fh:
                    fh.write(data)
            except BrokenPipeError:  # the reader stopped at its limit
                pass

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    thread = feed(b"y" * 300_000)  # more than one pipe buffer: several reads
    assert read_bounded(fifo, 400_000, "bundle", BundleError) == b"y" * 300_000
    thread.join()
    thread = feed(b"y" * 300_000)
    with pytest.raises(BundleError, match="is larger than"):
        read_bounded(fifo, 200_000, "bundle", BundleError)
    thread.join(timeout=10)


@pytest.mark.parametrize("field", ["digest", "root", "proof"])
def test_a_hash_with_a_trailing_newline_is_not_a_bundle(field):
    """Python's regex ``$`` matches before a final newline, and ``bytes.fromhex`` skips it: such
    a bundle verified here while readers comparing strings exactly refuse it."""
    good = "0x" + "ab" * 32
    data = {"bctrace": 1, "record": {}, "digest": good, "merkle": {"format": "oz-standard-v1", "root": good, "proof": [good]}}
    if field == "digest":
        data["digest"] = good + "\n"
    elif field == "root":
        data["merkle"]["root"] = good + "\n"
    else:
        data["merkle"]["proof"] = [good, good + "\n"]
    with pytest.raises(BundleError, match="must be 0x followed by 64 lowercase hex digits") as err:
        ProofBundle.from_json_text(json.dumps(data))
    where = {"digest": "digest", "root": "merkle.root", "proof": "merkle.proof[1]"}[field]
    assert f"field '{where}'" in str(err.value)


def test_bundle_text_is_json_dumps_indent_2_and_reads_back_the_same_values():
    """Written by pydantic's serializer: byte for byte what ``json.dumps(indent=2)`` wrote, but
    for floats with an exponent, which may be spelled differently (``0.00001`` for ``1e-05``) with
    the same value."""
    plain = ProofBundle(record={"kind": "x", "body": {"v": [1, 0.25, "é\u2028\x7f\x00\"\\/", "\U0001F600", True, None, {}, []]}},
                        digest="0x" + "a" * 64, merkle=MerkleProofInfo(root="0x" + "b" * 64, proof=["0x" + "c" * 64]),
                        anchors=[{"chain": "c", "chain_id": 1, "backend": "local", "tx": "0x01", "block": 2, "timestamp": 3,
                                  "chain_proof": {"lines": ["{}"]}}])
    assert plain.to_json() == _dumps_indent_2(plain)
    odd = plain.model_copy(update={"record": {"v": [1e16, 1.2e18, 1e-05, 5e-324, -0.0, 1e21, 100.0, 1e-7, 2**53]}})

    def typed(x):  # type: ignore[no-untyped-def]
        if isinstance(x, dict):
            return {k: typed(v) for k, v in x.items()}
        if isinstance(x, list):
            return [typed(v) for v in x]
        return type(x).__name__, x.hex() if isinstance(x, float) else x

    assert typed(json.loads(odd.to_json())) == typed(json.loads(_dumps_indent_2(odd)))
    assert ProofBundle.from_json_text(odd.to_json()) == odd  # the strict reader takes every spelling


def _dumps_indent_2(bundle: ProofBundle) -> str:
    return json.dumps(bundle.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False) + "\n"


def test_an_edited_proof_fails_after_its_batch_warmed_the_verifier(project):
    """Verifying many bundles in one Tracer keeps the batch's Merkle parents: a bundle with an
    edited proof step verified after all of them still fails."""
    from bctrace import Tracer
    from bctrace.errors import ProofInvalid

    (project / "bctrace.toml").write_text('bundle_dir = "bundles"\n')
    with Tracer.from_config() as tracer:
        with tracer.batch():
            for i in range(16):
                tracer.record("note", {"i": i})
        paths = sorted(tracer.flush().bundles)
        for path in paths:
            assert tracer.verify(path).ok
        data = json.loads(paths[3].read_text())
        step = data["merkle"]["proof"][-1]
        data["merkle"]["proof"][-1] = step[:-1] + ("0" if step[-1] != "0" else "1")
        (project / "edited.bctrace.json").write_text(json.dumps(data))
        with pytest.raises(ProofInvalid):
            tracer.verify(project / "edited.bctrace.json")
