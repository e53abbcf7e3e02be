"""Folder manifests: deterministic, explicit about links and special files, and verify names
every changed, added and removed file."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from bctrace.errors import SubjectMismatch
from bctrace._internal.hashing import check_subject, subject_for_path
from bctrace._internal.manifest import build_manifest, diff
from bctrace._internal.record import canonical_bytes


@pytest.fixture
def thousand(tmp_path: Path) -> Path:
    folder = tmp_path / "ds"
    for i in range(1000):
        sub = folder / f"shard{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"item{i:04d}.txt").write_text(f"sample {i}\n")
    return folder


def test_one_changed_file_in_1000_is_named(thousand: Path) -> None:
    subject, body = subject_for_path(thousand)
    assert len(body["manifest"]) == 1000 and subject.size == sum(len(f"sample {i}\n") for i in range(1000))
    check_subject(thousand, subject, body)
    (thousand / "shard7" / "item0427.txt").write_text("sample 427 edited\n")
    with pytest.raises(SubjectMismatch) as caught:
        check_subject(thousand, subject, body)
    assert str(caught.value).endswith("does not match its record: changed 1: shard7/item0427.txt")


def test_same_size_change_added_and_removed_are_all_named(thousand: Path) -> None:
    subject, body = subject_for_path(thousand)
    (thousand / "shard1" / "item0001.txt").write_text("sample X\n")  # same size
    (thousand / "shard2" / "new.txt").write_text("new\n")
    (thousand / "shard3" / "item0003.txt").unlink()
    with pytest.raises(SubjectMismatch, match=re.escape("changed 1: shard1/item0001.txt; added 1: shard2/new.txt; removed 1: shard3/item0003.txt")):
        check_subject(thousand, subject, body)


def test_many_changes_are_counted_and_listed_briefly(thousand: Path) -> None:
    subject, body = subject_for_path(thousand)
    for i in range(0, 300, 10):
        (thousand / "shard0" / f"item{i:04d}.txt").write_text("x")
    with pytest.raises(SubjectMismatch, match="changed 30: shard0/item0000.txt, .* and 10 more"):
        check_subject(thousand, subject, body)


def test_without_manifest_in_body_the_digest_still_decides(thousand: Path) -> None:
    subject, _ = subject_for_path(thousand)
    (thousand / "shard0" / "item0000.txt").write_text("x")
    with pytest.raises(SubjectMismatch, match="manifest digest is"):
        check_subject(thousand, subject, None)


def test_deterministic_and_independent_of_extra_hashes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, names in ((a, ["z.bin", "B.txt", "a/é.txt", "a/b/c"]), (b, ["a/b/c", "a/é.txt", "B.txt", "z.bin"])):
        for name in names:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(name)
    plain, body = subject_for_path(a)
    rich, rich_body = subject_for_path(b, cid=True, blake3=True)
    assert plain.sha256 == rich.sha256
    assert [e["path"] for e in body["manifest"]] == ["B.txt", "a/b/c", "a/é.txt", "z.bin"]
    assert all("cid" in e and "blake3" in e for e in rich_body["manifest"])
    # The digest is sha256 of the RFC 8785 bytes of the entries (path, size, sha256).
    assert plain.sha256 == "0x" + hashlib.sha256(canonical_bytes(body["manifest"])).hexdigest()


def test_links_empty_folders_and_special_files_are_explicit(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the dataset")
    folder = tmp_path / "ds"
    (folder / "empty").mkdir(parents=True)
    (folder / "data.txt").write_text("d")
    (folder / "to-data").symlink_to("data.txt")
    (folder / "to-outside").symlink_to(outside)
    os.mkfifo(folder / "pipe")
    entries = build_manifest(folder).entries
    assert entries == [
        {"path": "data.txt", "size": 1, "sha256": "0x" + hashlib.sha256(b"d").hexdigest()},
        {"path": "empty", "type": "dir"},
        {"path": "pipe", "type": "fifo"},
        {"path": "to-data", "type": "symlink", "target": "data.txt"},
        {"path": "to-outside", "type": "symlink", "target": str(outside)},
    ]
    subject, body = subject_for_path(folder)
    (folder / "to-data").unlink()
    (folder / "to-data").symlink_to("empty")
    with pytest.raises(SubjectMismatch, match="changed 1: to-data"):
        check_subject(folder, subject, body)


def test_diff_ignores_extra_hashes() -> None:
    old = [{"path": "a", "size": 1, "sha256": "0x1", "cid": "bafk1"}]
    assert diff(old, [{"path": "a", "size": 1, "sha256": "0x1"}]) == ([], [], [])
