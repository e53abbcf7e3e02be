import os

import pytest

from bctrace._internal.merkle import MerkleTree, hash_pair, leaf_hash, root_from_proof, verify_proof


def digests(n):
    return [os.urandom(32) for _ in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 100, 1001])
def test_every_leaf_proves_into_the_root(n):
    ds = digests(n)
    tree = MerkleTree(ds)
    assert len(tree) == n
    for d in ds:
        assert verify_proof(d, tree.proof(d), tree.root)


def test_single_leaf_root_is_the_leaf():
    d = os.urandom(32)
    tree = MerkleTree([d])
    assert tree.root == leaf_hash(d)
    assert tree.proof(d) == []


def test_two_leaves_root_is_sorted_pair_hash():
    a, b = digests(2)
    assert MerkleTree([a, b]).root == hash_pair(leaf_hash(a), leaf_hash(b)) == hash_pair(leaf_hash(b), leaf_hash(a))


def test_order_of_input_does_not_matter():
    ds = digests(11)
    assert MerkleTree(ds).root == MerkleTree(list(reversed(ds))).root


def test_wrong_digest_or_proof_fails():
    ds = digests(9)
    tree = MerkleTree(ds)
    proof = tree.proof(ds[3])
    assert not verify_proof(os.urandom(32), proof, tree.root)
    bad = list(proof)
    bad[0] = bytes(32)
    assert not verify_proof(ds[3], bad, tree.root)
    assert not verify_proof(ds[3], proof[:-1], tree.root)


def test_unknown_digest_has_no_proof():
    tree = MerkleTree(digests(3))
    with pytest.raises(KeyError, match="not a leaf"):
        tree.proof(os.urandom(32))


def test_empty_and_malformed_input_refused():
    with pytest.raises(ValueError):
        MerkleTree([])
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleTree([b"short"])


def test_hundred_thousand_leaves():
    ds = digests(100_000)
    tree = MerkleTree(ds)
    for d in ds[:: 9973]:
        proof = tree.proof(d)
        assert len(proof) in (16, 17)
        assert root_from_proof(d, proof) == tree.root


def test_folding_with_a_shared_memo_hashes_each_parent_once_and_still_catches_an_edited_step():
    ds = digests(100)
    tree = MerkleTree(ds)
    memo: dict[bytes, bytes] = {}
    assert all(root_from_proof(d, tree.proof(d), memo) == tree.root for d in ds)
    assert len(memo) == len(ds) - 1  # every parent of the tree, once
    proof = tree.proof(ds[7])
    for i in range(len(proof)):
        edited = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1:]]
        assert root_from_proof(ds[7], edited, memo) != tree.root
        assert root_from_proof(ds[7], edited, memo) == root_from_proof(ds[7], edited)
