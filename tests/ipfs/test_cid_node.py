"""Locally computed CIDs equal a real IPFS node's (js-ipfs, same importer settings as Kubo's
``ipfs add --cid-version=1 --raw-leaves --chunker=size-N``)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from bctrace._internal.cid import CidParams, cid_of_bytes
from bctrace._internal.hashing import hash_file, subject_for_path

from .conftest import node_cid, node_folder_cid

pytestmark = pytest.mark.integration

KIB, MIB = 1024, 1024 * 1024
SIZES = {"empty": 0, "tiny": 11, "1MB": 1_000_000, "10MB": 10_000_000}


@pytest.mark.parametrize("chunk", [256 * KIB, MIB], ids=["256KiB", "1MiB"])
@pytest.mark.parametrize("label", list(SIZES))
def test_file_cid_equals_node(ipfs_api: str, tmp_path: Path, label: str, chunk: int) -> None:
    data = random.Random(label).randbytes(SIZES[label])
    path = tmp_path / label
    path.write_bytes(data)
    local = hash_file(path, cid=CidParams(chunk_size=chunk)).cid
    assert local == node_cid(ipfs_api, data, chunk, only_hash=False)


@pytest.mark.parametrize(
    "leaves,tail",
    [(1, 0), (2, 0), (174, 0), (175, 0), (174 * 2, 3), (174 * 174, 0), (174 * 174 + 1, 0), (174 * 174 + 175, 5)],
)
def test_tree_shapes_equal_node(ipfs_api: str, leaves: int, tail: int) -> None:
    # 16-byte chunks reach two and three levels of 174-link nodes with little data.
    data = random.Random(leaves).randbytes(16 * leaves + tail)
    assert cid_of_bytes(data, CidParams(chunk_size=16)) == node_cid(ipfs_api, data, 16)


@pytest.mark.slow
@pytest.mark.parametrize("chunk", [256 * KIB, MIB], ids=["256KiB", "1MiB"])
def test_200mb_cid_equals_node(ipfs_api: str, tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as fh:
        for _ in range(200):
            fh.write(os.urandom(1_000_000))
    local = hash_file(path, cid=CidParams(chunk_size=chunk)).cid
    with path.open("rb") as fh:
        assert local == node_cid(ipfs_api, fh, chunk)


def test_folder_cid_equals_node(ipfs_api: str, tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    for rel, size in {"a.txt": 11, "sub/b.bin": 600_000, "sub/deeper/c": 0, ".hidden": 5, "ünï cödé.txt": 3, "z/1": 1}.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(random.Random(rel).randbytes(size))
    (folder / "empty" / "nested-empty").mkdir(parents=True)
    for chunk in (256 * KIB, MIB):
        subject, _ = subject_for_path(folder, cid=CidParams(chunk_size=chunk))
        assert subject.cid == node_folder_cid(ipfs_api, folder, chunk)
