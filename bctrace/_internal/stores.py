"""Content stores: where the bytes of a stamped file live, addressed by their CID.

Separate from chains: a chain anchors a record's digest, a store keeps the content so that anyone
holding the bundle can get it back and check it. A store is a :class:`ContentStore` subclass
with a :class:`StoreConfig` model, registered through the ``bctrace_register_stores`` hook and
built from one ``[stores.NAME]`` table (the IPFS store lives in ``bctrace_backends.ipfs``).

Two rules hold whatever the store:

- nothing is recorded as stored that is not stored: :func:`put_subject` compares the CID the
  store reports with the one computed locally and raises :class:`~bctrace.errors.StoreError`
  when they differ (or when the store cannot be reached), before anything is recorded;
- nothing fetched is trusted: :func:`fetch_subject` hashes the bytes as they arrive and keeps
  them only if their sha256 and size equal the record's. A store returning other bytes is a
  :class:`StoreContentMismatch` (exit 3: the record is intact, the store is not trustworthy).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..errors import StoreContentMismatch, StoreError, UsageError
from .cid import CidParams, cid_from_str, cid_to_str, multihash_of, normalize_cid, same_cid
from .hexutil import to_0x
from .record import Subject

if TYPE_CHECKING:
    from .bundle import ProofBundle


class StoreConfig(BaseModel):
    """Base of every store's config model: one ``[stores.NAME]`` table. Unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str


class ContentStore(ABC):
    """One configured content store. Subclasses are ``<Name>Store`` with a ``<Name>Config``."""

    name: ClassVar[str]
    config_model: ClassVar[type[StoreConfig]] = StoreConfig

    def __init__(self, store: str, config: StoreConfig) -> None:
        self.store = store
        """The store's name in this user's config (``[stores.NAME]``)."""
        self.config = config

    @abstractmethod
    def add(self, path: Path, params: CidParams) -> str:
        """Upload (and pin) a file with the given import parameters; return the CID the store
        reports. Raises :class:`StoreError` when the store fails."""

    @abstractmethod
    def cat(self, cid: str) -> AbstractContextManager[Iterator[bytes]]:
        """Stream the bytes stored under ``cid``; raises :class:`StoreError` when the store fails."""

    def put_block(self, data: bytes) -> str:
        """Store one dag-pb block (a folder's directory node); return the CID the store reports.
        Stores that cannot hold raw blocks cannot store folders."""
        raise StoreError(f"store {self.store!r} ({self.name}) cannot store folders")

    def pin(self, cid: str) -> None:
        """Keep ``cid`` and everything under it from being garbage-collected (fails if part of
        the DAG is missing); the default store has nothing to do."""

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> ContentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} store={self.store!r}>"


def put_subject(store: ContentStore, path: str | os.PathLike[str], subject: Subject) -> Subject:
    """Upload a stamped file or folder and return its subject with the store-confirmed CID.

    A folder is stored as its UnixFS DAG (the CID ``ipfs add -r`` would give it): file by file,
    then its directory blocks, then pinned as a whole.
    """
    p = Path(path)
    if p.is_dir():
        return _put_folder(store, p, subject)
    params = CidParams.from_dict(subject.cid_params) if subject.cid else CidParams()
    local = subject.cid
    if local is None:
        from .hashing import hash_file

        local = hash_file(p, cid=params).cid
    assert local is not None
    _put_checked(store, p, params, local)
    return subject.model_copy(update={"cid": normalize_cid(local), "cid_params": params.to_dict()})


def _put_checked(store: ContentStore, path: Path, params: CidParams, local: str) -> None:
    remote = store.add(path, params)
    if not same_cid(remote, local):
        raise StoreError(
            f"store {store.store!r}: the node stored {path} as {remote}, but its CID computed locally is {local} "
            "(the file changed during upload, or the node used other import parameters); not recorded as stored"
        )


def _put_folder(store: ContentStore, folder: Path, subject: Subject) -> Subject:
    """Every file (each CID checked), then the directory blocks computed locally (each checked),
    then a recursive pin of the root, which succeeds only if the node holds the whole DAG."""
    from .manifest import build_manifest

    params = CidParams.from_dict(subject.cid_params) if subject.cid_params else CidParams()
    manifest = build_manifest(folder, cid=params)
    if to_0x(manifest.digest) != subject.sha256:
        raise StoreError(f"store {store.store!r}: folder {folder} changed since it was hashed; not recorded as stored")
    for entry in manifest.files():
        _put_checked(store, folder / entry["path"], params, entry["cid"])
    for block in manifest.blocks:
        remote = store.put_block(block.data)
        if multihash_of(cid_from_str(remote)) != multihash_of(block.cid):
            raise StoreError(f"store {store.store!r}: the node stored a directory block of {folder} as {remote}, "
                             f"not {cid_to_str(block.cid)}; not recorded as stored")
    assert manifest.cid is not None
    store.pin(manifest.cid)
    return manifest.subject(subject.name)


def fetch_subject(store: ContentStore, subject: Subject, dest: Path) -> Path:
    """Fetch one file by its CID into ``dest``, keeping it only if sha256 and size match."""
    if not subject.cid:
        raise UsageError(f"{subject.name}: the record has no CID to fetch")
    dest.parent.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(prefix=".bctrace-fetch-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, store.cat(subject.cid) as chunks:
            for chunk in chunks:
                sha.update(chunk)
                size += len(chunk)
                if subject.size is not None and size > subject.size:
                    break
                out.write(chunk)
        if to_0x(sha.digest()) != subject.sha256 or (subject.size is not None and size != subject.size):
            raise StoreContentMismatch(
                f"store {store.store!r} returned other bytes for {subject.name} (CID {subject.cid}): "
                f"sha256 {to_0x(sha.digest())}, size {size}; the record says {subject.sha256}, size {subject.size}"
            )
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _safe_relative(rel: str, source: str) -> PurePosixPath:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise UsageError(f"{source}: manifest path {rel!r} leaves the folder; refused")
    return pure


def _inside(rel: str, target: str) -> bool:
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
    return not posixpath.isabs(target) and joined != ".." and not joined.startswith("../")


def fetch_bundle(store: ContentStore, bundle: ProofBundle, to: Path, *, source: str = "bundle") -> list[Path]:
    """Fetch every subject of a bundle's record into folder ``to``, each checked against the record.

    A folder subject is rebuilt from the manifest in the record (anchored, so trusted): its
    files are fetched by their CIDs and checked one by one; empty folders and symlinks
    whose target stays inside the folder are recreated; other links and special files are not
    (they stay described in the manifest).
    """
    from .manifest import manifest_digest

    written: list[Path] = []
    body: dict[str, Any] = bundle.record.get("body") or {}
    for raw in bundle.record.get("subjects") or []:
        subject = Subject.model_validate(raw)
        name = _safe_relative(subject.name, source).name
        if subject.media_type == "inode/directory":
            entries = body.get("manifest")
            if not isinstance(entries, list) or to_0x(manifest_digest(entries)) != subject.sha256:
                raise UsageError(f"{source}: folder {subject.name} has no manifest matching its digest in the record")
            for entry in entries:
                rel = _safe_relative(entry["path"], source)
                if entry.get("type") == "dir":
                    (to / name / rel).mkdir(parents=True, exist_ok=True)
                elif "type" not in entry:
                    if not entry.get("cid"):
                        raise UsageError(f"{source}: file {entry['path']} of {subject.name} has no CID in the record")
                    sub = Subject(name=entry["path"], sha256=entry["sha256"], size=entry["size"], cid=entry["cid"])
                    written.append(fetch_subject(store, sub, to / name / rel))
            # Links last, so no file is ever written through one; only links that stay inside.
            for entry in entries:
                if entry.get("type") == "symlink" and _inside(entry["path"], entry["target"]):
                    link = to / name / _safe_relative(entry["path"], source)
                    link.parent.mkdir(parents=True, exist_ok=True)
                    link.unlink(missing_ok=True)
                    link.symlink_to(entry["target"])
        else:
            written.append(fetch_subject(store, subject, to / name))
    return written
