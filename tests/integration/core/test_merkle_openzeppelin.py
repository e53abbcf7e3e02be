"""Our Merkle trees against the npm package @openzeppelin/merkle-tree itself."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bctrace._internal.hexutil import to_0x
from bctrace._internal.merkle import MerkleTree

REPO = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("oz_merkle.js")


def openzeppelin(digests: list[bytes], prove: list[bytes]) -> dict:
    if not (REPO / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        pytest.fail("node_modules/@openzeppelin/merkle-tree is missing: run `npm ci` (.ci/run does)")
    out = subprocess.run(
        [shutil.which("node") or "node", str(SCRIPT)],
        input=json.dumps({"digests": [to_0x(d) for d in digests], "prove": [to_0x(d) for d in prove]}),
        capture_output=True, text=True, cwd=REPO, check=True, timeout=300,
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 16, 17, 33, 1000])
def test_root_and_every_proof_match_openzeppelin(n):
    ds = [os.urandom(32) for _ in range(n)]
    ours = MerkleTree(ds)
    ref = openzeppelin(ds, ds)
    assert to_0x(ours.root) == ref["root"]
    for d in ds:
        assert [to_0x(p) for p in ours.proof(d)] == ref["proofs"][to_0x(d)]


def test_hundred_thousand_leaves_match_openzeppelin():
    ds = [os.urandom(32) for _ in range(100_000)]
    ours = MerkleTree(ds)
    sample = ds[::4999]
    ref = openzeppelin(ds, sample)
    assert to_0x(ours.root) == ref["root"]
    assert len(ref["proofs"]) == len(sample)
    for d in sample:
        assert [to_0x(p) for p in ours.proof(d)] == ref["proofs"][to_0x(d)]
