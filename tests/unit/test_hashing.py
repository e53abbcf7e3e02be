"""Streaming hashing: one pass gives the same sha256, BLAKE3 and CID as separate computations,
whatever the block boundaries, with the pipelined and the simple path alike."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
from pathlib import Path

import blake3
import pytest

from bctrace._internal import hashing
from bctrace._internal.cid import CidParams, cid_of_bytes
from bctrace.errors import SubjectMismatch, UsageError
from bctrace._internal.hashing import _fill, check_subject, hash_file, progress_bar, subject_for_path

KIB = 1024


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> int:
    """64 KiB reads, so a few hundred KiB cross many block boundaries (and take the pipelined path)."""
    monkeypatch.setattr(hashing, "BLOCK", 64 * KIB)
    return 64 * KIB


@pytest.mark.parametrize("size", [0, 1, 16 * KIB - 1, 64 * KIB, 64 * KIB + 1, 3 * 64 * KIB + 5, 1000 * KIB])
@pytest.mark.parametrize("chunk", [16 * KIB, 48 * KIB, 100 * KIB])
def test_one_pass_equals_separate_hashes(tmp_path: Path, small_blocks: int, size: int, chunk: int) -> None:
    data = random.Random(size).randbytes(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    seen: list[int] = []
    got = hash_file(path, cid=CidParams(chunk_size=chunk), blake3=True, on_progress=seen.append)
    assert got.sha256 == hashlib.sha256(data).digest() and got.size == size == sum(seen)
    assert got.blake3 == blake3.blake3(data).digest()
    assert got.cid == cid_of_bytes(data, CidParams(chunk_size=chunk))


@pytest.mark.parametrize("size", [64 * KIB + 1, 1000 * KIB])
def test_blake3_without_a_cid_is_pipelined_and_equal(tmp_path: Path, small_blocks: int, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    data = random.Random(size).randbytes(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    calls: list[int] = []
    pipelined = hashing._pipelined
    monkeypatch.setattr(hashing, "_pipelined", lambda *a: calls.append(1) or pipelined(*a))
    got = hash_file(path, blake3=True)
    assert calls and got.sha256 == hashlib.sha256(data).digest() and got.size == size
    assert got.blake3 == blake3.blake3(data).digest() and got.cid is None


def test_fill_survives_short_reads() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def readinto(self, b: memoryview) -> int:  # type: ignore[override]
            n = min(3, len(b), len(self.data))
            b[:n], self.data = self.data[:n], self.data[n:]
            return n

    buf = bytearray(10)
    assert _fill(Trickle(b"abcdefghijklm"), memoryview(buf)) == 10 and bytes(buf) == b"abcdefghij"


def test_subject_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"weights" * 1000)
    subject, body = subject_for_path(path, cid=True, blake3=True)
    assert body is None and subject.name == "model.safetensors" and subject.size == 7000
    assert subject.sha256 == "0x" + hashlib.sha256(b"weights" * 1000).hexdigest()
    assert subject.digests == {"blake3": "0x" + blake3.blake3(b"weights" * 1000).hexdigest()}
    assert subject.cid == cid_of_bytes(b"weights" * 1000) and subject.cid_params["chunker"] == "size-262144"
    plain, _ = subject_for_path(path, name="weights")
    assert plain.name == "weights" and plain.cid is None and plain.digests is None and plain.sha256 == subject.sha256


def test_binary_tarball_hashed_like_any_file(tmp_path: Path) -> None:
    tar = tmp_path / "image.tar"
    with tarfile.open(tar, "w") as tf:
        payload = random.Random(1).randbytes(300_000)
        info = tarfile.TarInfo("layer/blob")
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    subject, _ = subject_for_path(tar)
    assert subject.name == "image.tar" and subject.size == tar.stat().st_size
    assert subject.sha256 == "0x" + hashlib.sha256(tar.read_bytes()).hexdigest()


def test_check_subject_names_the_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    subject, _ = subject_for_path(path)
    check_subject(path, subject)
    path.write_text("a,b\n1,3\n")
    with pytest.raises(SubjectMismatch, match=r"data\.csv changed: sha256 is 0x"):
        check_subject(path, subject)
    path.unlink()
    with pytest.raises(SubjectMismatch, match="does not exist any more"):
        check_subject(path, subject)


def test_missing_and_special_paths(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        subject_for_path(tmp_path / "nope")
    import os

    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UsageError, match="not a regular file or folder"):
        subject_for_path(tmp_path / "pipe")


def test_progress_bar_only_for_large_inputs() -> None:
    with progress_bar(1000, "small", True) as cb:
        assert cb is None
    with progress_bar(hashing.PROGRESS_THRESHOLD, "large", False) as cb:
        assert cb is None
    with progress_bar(hashing.PROGRESS_THRESHOLD, "large", True) as cb:
        assert cb is not None
        cb(123)
