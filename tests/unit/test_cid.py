"""Local UnixFS CID computation: encodings and tree building (the comparison against a real IPFS
node for many sizes lives in tests/ipfs/test_cid_node.py; the vectors here were produced by it)."""

from __future__ import annotations

import pytest

from bctrace._internal.cid import (
    CidParams,
    UnixFSBuilder,
    cid_from_str,
    cid_of_bytes,
    cid_of_chunks,
    cid_to_str,
    normalize_cid,
    same_cid,
    varint,
)

PATTERN = bytes(range(256)) * 4096 * 3 + b"tail"  # 3 MiB + 4 bytes


def test_vectors_from_an_ipfs_node() -> None:
    assert cid_of_bytes(b"") == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert cid_of_bytes(b"hello world") == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    assert cid_of_bytes(PATTERN) == "bafybeiemvelfppncxxnfzfcsey5zcrumcnpe4qkyliogdsit335hoqsw7i"
    assert cid_of_bytes(PATTERN, CidParams(chunk_size=1 << 20)) == "bafybeigukq5tbragg62bski7zxijbvayq2vvaf6wndtuwcialml4c7y7xu"


def test_chunks_and_bytes_agree() -> None:
    size = 1 << 18
    assert cid_of_chunks((PATTERN[i : i + size] for i in range(0, len(PATTERN), size))) == cid_of_bytes(PATTERN)


def test_varint() -> None:
    assert varint(0) == b"\x00" and varint(127) == b"\x7f" and varint(128) == b"\x80\x01" and varint(300) == b"\xac\x02"


def test_multibase_round_trip_and_comparison() -> None:
    cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    raw = cid_from_str(cid)
    assert raw[:2] == b"\x01\x55" and cid_to_str(raw) == cid
    base58 = "zb2rhmy65F3REf8SZp7De11gxtECBGgUKaLdiDj7MCGCHxbDW"  # js-ipfs's default print of the empty file
    assert normalize_cid(base58) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert same_cid(base58, cid_of_bytes(b"")) and not same_cid(base58, cid) and not same_cid("nonsense", cid)
    with pytest.raises(ValueError, match="unsupported CID encoding"):
        cid_from_str("mAXASIA")


def test_memory_stays_within_one_node_per_level() -> None:
    builder = UnixFSBuilder(CidParams(chunk_size=1))
    for i in range(174 * 174 * 2 + 7):
        builder.add_leaf(bytes(32), 1)
        assert all(len(level) < 174 for level in builder._levels)
    assert len(builder._levels) == 3 and builder.leaves == 174 * 174 * 2 + 7


def test_params_round_trip_and_refusals() -> None:
    params = CidParams(chunk_size=1 << 20)
    assert params.to_dict()["chunker"] == "size-1048576"
    assert CidParams.from_dict(params.to_dict()) == params and CidParams.from_dict(None) == CidParams()
    with pytest.raises(ValueError, match="raw_leaves"):
        CidParams.from_dict({**params.to_dict(), "raw_leaves": False})
    with pytest.raises(ValueError, match="unsupported chunker"):
        CidParams.from_dict({"chunker": "rabin"})
    with pytest.raises(ValueError, match="chunk size"):
        CidParams(chunk_size=2 << 20)


def test_folder_vectors_from_an_ipfs_node() -> None:
    from bctrace._internal.cid import folder_dag

    empty, blocks = folder_dag({})
    assert cid_to_str(empty.cid) == "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354" and blocks == [empty]
    files = {"a.txt": (cid_from_str(cid_of_bytes(b"hello world")), 11), "sub/b.txt": (cid_from_str(cid_of_bytes(b"bbb")), 3)}
    root, blocks = folder_dag(files)
    assert cid_to_str(root.cid) == "bafybeifffvztijslacdfgy65qt73ztmvkzxwvetxg3y3bahfiyl6z2wvfe"
    assert len(blocks) == 2 and blocks[-1] == root  # children before parents


def test_directories_that_ipfs_would_shard_are_refused() -> None:
    from bctrace._internal.cid import folder_dag

    leaf = cid_from_str(cid_of_bytes(b"x"))
    with pytest.raises(ValueError, match="HAMT shard"):
        folder_dag({f"file-with-a-long-name-{i:06d}.bin": (leaf, 1) for i in range(5000)})


def test_multihash_of_any_cid_version() -> None:
    from bctrace._internal.cid import multihash_of

    v1 = cid_from_str("bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354")
    v0 = cid_from_str("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")  # the same empty directory
    assert multihash_of(v1) == multihash_of(v0) == v0
