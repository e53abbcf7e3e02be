"""Hostile inputs for tests: bundles whose digest and Merkle proof check (a one-leaf tree, as an
attacker can make for any record) around a manifest of the attacker's choosing, and a content
store held in memory (the store is not what these tests are about)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bctrace._internal.manifest import manifest_digest
from bctrace._internal.merkle import MerkleTree
from bctrace._internal.record import digest_of_json
from bctrace.api import CidParams, ContentStore, ProofBundle, StoreConfig, to_0x


def sha(data: bytes) -> str:
    return to_0x(hashlib.sha256(data).digest())


def file_entry(path: str, data: bytes) -> dict[str, Any]:
    """A manifest entry for a file whose bytes the :class:`MemoryStore` serves under ``cid-<sha>``."""
    return {"path": path, "size": len(data), "sha256": sha(data), "cid": "cid-" + sha(data)}


def record_for(entries: Any, name: str = "ds") -> dict[str, Any]:
    try:
        digest = to_0x(manifest_digest(entries))
    except (AttributeError, TypeError, ValueError):
        digest = "0x" + "00" * 32  # a manifest that cannot even be hashed
    return {
        "schema_version": 1, "kind": "dataset", "trace": "t", "seq": 0, "created": "2026-01-01T00:00:00Z",
        "subjects": [{"name": name, "sha256": digest, "size": 0, "media_type": "inode/directory"}],
        "body": {"manifest": entries, "manifest_format": "bctrace-manifest-v1"},
    }


def bundle_json(record: dict[str, Any]) -> dict[str, Any]:
    digest = digest_of_json(record)
    tree = MerkleTree([digest])
    return {"bctrace": 1, "record": record, "digest": to_0x(digest),
            "merkle": {"format": "oz-standard-v1", "root": to_0x(tree.root), "proof": [to_0x(p) for p in tree.proof(digest)]},
            "anchors": []}


def craft_bundle(entries: Any, name: str = "ds") -> ProofBundle:
    return ProofBundle.model_validate(bundle_json(record_for(entries, name)))


def write_bundle(path: Path, entries: Any, name: str = "ds") -> Path:
    path.write_text(json.dumps(bundle_json(record_for(entries, name))), encoding="utf-8")
    return path


class MemoryStore(ContentStore):
    """Serves ``cid-<sha256>`` from a dict; ``lie=True`` flips a byte of everything it returns."""

    name = "memory"

    def __init__(self, blobs: list[bytes] = (), *, lie: bool = False) -> None:  # type: ignore[assignment]
        super().__init__("memory", StoreConfig(backend="memory"))
        self.blobs = {"cid-" + sha(b): b for b in blobs}
        self.lie = lie

    def add(self, path: Path, params: CidParams) -> str:  # pragma: no cover - not used
        raise NotImplementedError

    @contextmanager
    def cat(self, cid: str) -> Iterator[Iterator[bytes]]:
        data = self.blobs[cid]
        if self.lie:
            data = bytes([data[0] ^ 1]) + data[1:] if data else b"x"
        yield iter([data])
