"""Local IPFS CID computation, compatible with Kubo's ``ipfs add``.

Reproduces ``ipfs add --cid-version=1 --raw-leaves --chunker=size-N`` (sha2-256, balanced DAG,
174 links per node) without a node, so a file's CID is known before (and without) uploading it,
and a store's answer can be checked against it. The file is cut into fixed-size chunks; each
chunk is a ``raw`` block; chunks are grouped 174 at a time under dag-pb nodes carrying UnixFS
``File`` data, level by level, until one root remains. A file of one chunk (or an empty file)
is its own root: a single raw block.

The few protobuf fields involved (PBNode.Links/Data, PBLink.Hash/Name/Tsize, UnixFS
Type/filesize/blocksizes) are encoded by hand here; multibase (base32, base58btc) and multihash
too. That is smaller than depending on a protobuf runtime, and no maintained PyPI package builds
UnixFS trees.

The tree is built incrementally (:class:`UnixFSBuilder`): a level is collapsed as soon as it
holds 174 entries, so memory stays at most 174 entries per level whatever the file size.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
MULTIHASH_SHA2_256 = 0x12
DEFAULT_CHUNK_SIZE = 262144
MAX_LINKS = 174
_UNIXFS_DIRECTORY = 1
_UNIXFS_FILE = 2
SHARD_THRESHOLD = 256 * 1024
"""Kubo (and js-ipfs) turn a directory into a HAMT shard once the names and CIDs of its links
add up to more than this; bctrace does not build shards and refuses such folders for CIDs."""

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(frozen=True)
class CidParams:
    """The import parameters a CID depends on; stored with every CID (``Subject.cid_params``)."""

    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_links: int = MAX_LINKS

    def __post_init__(self) -> None:
        if not 1 <= self.chunk_size <= 1 << 20:
            raise ValueError(f"chunk size must be between 1 byte and 1 MiB, got {self.chunk_size}")
        if self.max_links < 2:
            raise ValueError(f"max_links must be at least 2, got {self.max_links}")

    def to_dict(self) -> dict[str, Any]:
        """The parameters in the words of ``ipfs add``, as recorded in bundles."""
        return {
            "cid_version": 1,
            "raw_leaves": True,
            "chunker": f"size-{self.chunk_size}",
            "hash": "sha2-256",
            "layout": "balanced",
            "max_links": self.max_links,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CidParams:
        """Read parameters back from a bundle; refuse ones this module cannot reproduce."""
        if not data:
            return cls()
        expected = {"cid_version": 1, "raw_leaves": True, "hash": "sha2-256", "layout": "balanced"}
        for key, value in expected.items():
            if data.get(key, value) != value:
                raise ValueError(f"cannot recompute a CID made with {key}={data.get(key)!r} (only {value!r})")
        chunker = str(data.get("chunker", f"size-{DEFAULT_CHUNK_SIZE}"))
        if not chunker.startswith("size-") or not chunker[5:].isdigit():
            raise ValueError(f"unsupported chunker {chunker!r} (only size-N)")
        return cls(chunk_size=int(chunker[5:]), max_links=int(data.get("max_links", MAX_LINKS)))


# --- encodings -------------------------------------------------------------------------------


def varint(n: int) -> bytes:
    """Unsigned LEB128, as used by protobuf and multiformats."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return varint((number << 3) | 2) + varint(len(value)) + value


def cid_bytes(codec: int, sha256_digest: bytes) -> bytes:
    """Binary CIDv1: version, codec, multihash (sha2-256)."""
    return b"\x01" + varint(codec) + bytes([MULTIHASH_SHA2_256, 32]) + sha256_digest


def cid_to_str(cid: bytes) -> str:
    """CIDv1 in base32 (multibase prefix ``b``), the form Kubo prints."""
    return "b" + base64.b32encode(cid).decode("ascii").lower().rstrip("=")


def cid_from_str(text: str) -> bytes:
    """Binary CID from its text form: CIDv1 in base32 (``b…``) or base58btc (``z…``), or a
    CIDv0 (``Qm…``). Lets a node's answer be compared whatever base it prints."""
    text = text.strip()
    if text.startswith("Qm") and len(text) == 46:
        return _b58decode(text)
    if text[:1] == "b":
        body = text[1:].upper()
        return base64.b32decode(body + "=" * (-len(body) % 8))
    if text[:1] == "z":
        return _b58decode(text[1:])
    raise ValueError(f"unsupported CID encoding: {text!r:.80}")


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        index = _B58.find(ch)
        if index < 0:
            raise ValueError(f"invalid base58 character {ch!r}")
        n = n * 58 + index
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\x00" * pad + body


def same_cid(a: str, b: str) -> bool:
    """Whether two CID strings name the same bytes (bases may differ)."""
    try:
        return cid_from_str(a) == cid_from_str(b)
    except ValueError:
        return False


def multihash_of(cid: bytes) -> bytes:
    """The multihash inside a binary CID: what a block is stored under, whatever CID names it."""
    if cid[:2] == bytes([MULTIHASH_SHA2_256, 32]):  # CIDv0 is a bare multihash
        return cid
    rest = cid[1:]  # version 1
    while rest[0] & 0x80:  # skip the codec varint
        rest = rest[1:]
    return rest[1:]


def normalize_cid(text: str) -> str:
    """A CIDv1 string in base32, whatever base it came in."""
    raw = cid_from_str(text)
    return cid_to_str(raw) if raw[:1] == b"\x01" else text


# --- the DAG ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    cid: bytes
    tsize: int
    """Cumulative size of the block and everything under it (PBLink.Tsize)."""
    filesize: int
    """File bytes under this entry (UnixFS blocksizes)."""


def _file_node(children: list[_Entry]) -> _Entry:
    filesize = sum(c.filesize for c in children)
    unixfs = _field_varint(1, _UNIXFS_FILE) + _field_varint(3, filesize)
    unixfs += b"".join(_field_varint(4, c.filesize) for c in children)
    links = b"".join(
        _field_bytes(2, _field_bytes(1, c.cid) + _field_bytes(2, b"") + _field_varint(3, c.tsize)) for c in children
    )
    block = links + _field_bytes(1, unixfs)
    return _Entry(cid_bytes(CODEC_DAG_PB, hashlib.sha256(block).digest()), len(block) + sum(c.tsize for c in children), filesize)


class UnixFSBuilder:
    """Builds the balanced UnixFS DAG from the sha256 of each chunk, in file order.

    Feed :meth:`add_leaf` once per chunk (the last may be short), then call :meth:`root`.
    """

    def __init__(self, params: CidParams | None = None) -> None:
        self.params = params or CidParams()
        self._levels: list[list[_Entry]] = [[]]
        self.leaves = 0

    def add_leaf(self, chunk_sha256: bytes, length: int) -> None:
        self.leaves += 1
        self._push(0, _Entry(cid_bytes(CODEC_RAW, chunk_sha256), length, length))

    def add_chunk(self, chunk: bytes | memoryview) -> None:
        self.add_leaf(hashlib.sha256(chunk).digest(), len(chunk))

    def _push(self, level: int, entry: _Entry) -> None:
        # A full group is final in the balanced layout: collapse it now to keep memory flat.
        while True:
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(entry)
            if len(self._levels[level]) < self.params.max_links:
                return
            entry = _file_node(self._levels[level])
            self._levels[level] = []
            level += 1

    def root(self) -> bytes:
        """The binary CID of the whole file."""
        return self.root_entry().cid

    def root_entry(self) -> _Entry:
        """The root's CID and cumulative size (what a directory links to the file with)."""
        if self.leaves == 0:
            return _Entry(cid_bytes(CODEC_RAW, hashlib.sha256(b"").digest()), 0, 0)
        levels = [list(level) for level in self._levels]
        i = 0
        while True:
            top = max(j for j, level in enumerate(levels) if level)
            if i == top and len(levels[i]) == 1:
                return levels[i][0]
            if levels[i]:
                if i + 1 == len(levels):
                    levels.append([])
                levels[i + 1].append(_file_node(levels[i]))
            i += 1


@dataclass(frozen=True)
class Block:
    """One dag-pb block of a folder's DAG, to compute its CID and to upload it to a store."""

    cid: bytes
    data: bytes
    tsize: int


def directory_block(links: list[tuple[str, bytes, int]]) -> Block:
    """A basic (unsharded) UnixFS directory: links ``(name, cid, tsize)``, sorted by name bytes."""
    ordered = sorted(links, key=lambda link: link[0].encode("utf-8"))
    if sum(len(name.encode("utf-8")) + len(cid) for name, cid, _ in ordered) > SHARD_THRESHOLD:
        raise ValueError(f"a directory of {len(ordered)} entries would be a HAMT shard in IPFS, which bctrace does not compute")
    body = b"".join(
        _field_bytes(2, _field_bytes(1, cid) + _field_bytes(2, name.encode("utf-8")) + _field_varint(3, tsize))
        for name, cid, tsize in ordered
    )
    data = body + _field_bytes(1, _field_varint(1, _UNIXFS_DIRECTORY))
    return Block(cid_bytes(CODEC_DAG_PB, hashlib.sha256(data).digest()), data, len(data) + sum(t for _, _, t in ordered))


def folder_dag(files: dict[str, tuple[bytes, int]], dirs: Iterable[str] = ()) -> tuple[Block, list[Block]]:
    """The UnixFS DAG of a folder from its files' CIDs: ``files`` maps relative POSIX paths to
    ``(cid, tsize)``; ``dirs`` lists folders to include even when empty. Returns the root block
    and every directory block (root last), in upload order: children before parents.

    Equals ``ipfs add -r --cid-version=1 --raw-leaves --hidden`` of a folder holding these files.
    """
    subdirs: dict[str, set[str]] = {"": set()}
    in_folder: dict[str, dict[str, tuple[bytes, int]]] = {}

    def register(folder: str) -> None:
        while folder:
            parent, _, name = folder.rpartition("/")
            subdirs.setdefault(folder, set())
            subdirs.setdefault(parent, set()).add(name)
            folder = parent

    for d in dirs:
        register(d)
    for path, link in files.items():
        parent, _, name = path.rpartition("/")
        register(parent)
        in_folder.setdefault(parent, {})[name] = link
    built: dict[str, Block] = {}
    blocks: list[Block] = []
    for folder in sorted(subdirs, key=lambda f: f.count("/") + 1 if f else 0, reverse=True):
        links = dict(in_folder.get(folder, {}))
        for name in subdirs[folder]:
            child = built[f"{folder}/{name}" if folder else name]
            links[name] = (child.cid, child.tsize)
        built[folder] = directory_block([(name, cid, tsize) for name, (cid, tsize) in links.items()])
        blocks.append(built[folder])
    return built[""], blocks


def cid_of_bytes(data: bytes, params: CidParams | None = None) -> str:
    """CID of bytes in memory (small inputs and tests; files go through bctrace.hashing)."""
    builder = UnixFSBuilder(params)
    size = builder.params.chunk_size
    view = memoryview(data)
    for start in range(0, len(data), size):
        builder.add_chunk(view[start : start + size])
    return cid_to_str(builder.root())


def cid_of_chunks(chunks: Iterable[bytes], params: CidParams | None = None) -> str:
    """CID of data given as consecutive chunks of exactly ``params.chunk_size`` (last shorter)."""
    builder = UnixFSBuilder(params)
    for chunk in chunks:
        builder.add_chunk(chunk)
    return cid_to_str(builder.root())
