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
  :class:`StoreContentMismatch` (exit 3: the record is intact, the store is not trustworthy);
- nothing fetched lands outside the folder the user named: :func:`fetch_bundle` checks the whole
  manifest first and writes through :class:`~bctrace._internal.confined.ConfinedFolder`, which follows no link.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from pydantic import BaseModel, ConfigDict

from ..errors import StoreContentMismatch, StoreError, UsageError
from .cid import CidParams, cid_from_str, cid_to_str, multihash_of, normalize_cid, same_cid
from .confined import ConfinedFolder
from .hexutil import to_0x
from .manifest_plan import FetchPlan, plan_folder, safe_relative
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


def fetch_subject(store: ContentStore, subject: Subject, folder: ConfinedFolder, rel: PurePosixPath) -> Path:
    """Fetch one file by its CID to ``rel`` inside ``folder``, keeping it only if sha256 and size
    match (other bytes never reach the file's name)."""
    if not subject.cid:
        raise UsageError(f"{subject.name}: the record has no CID to fetch")
    sha = hashlib.sha256()
    size = 0

    def fill(out: BinaryIO) -> None:
        nonlocal size
        with store.cat(subject.cid) as chunks:  # type: ignore[arg-type]
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

    return folder.write_file(rel, fill)


def fetch_bundle(store: ContentStore, bundle: ProofBundle, to: Path, *, source: str = "bundle") -> FetchResult:
    """Fetch every subject of a bundle's record into folder ``to``, each checked against the record.

    Nothing is ever created, changed or deleted outside ``to`` (see :mod:`bctrace._internal.confined`), and
    a fetch that fails takes back what it wrote. A folder subject is rebuilt from the manifest in
    the record (anchored, so it is the one that was stamped, but it may still have been crafted):
    the whole manifest is checked first (:func:`~bctrace._internal.manifest_plan.plan_folder`), then its
    folders and files are made (each file fetched by its CID and checked), then its links whose
    target stays inside the folder. Links that point elsewhere and special files are not
    recreated; they are listed in :attr:`FetchResult.skipped`.
    """
    planned = [_plan_subject(raw, bundle.record.get("body"), source) for raw in _subjects(bundle, source)]
    folder = ConfinedFolder(to, source=source)
    result = FetchResult()
    try:
        for name, subject, plan in planned:
            if plan is None:
                result.written.append(fetch_subject(store, subject, folder, name))
                continue
            folder.folder(name)
            for rel in plan.folders:
                folder.folder(name / rel)
            for rel, entry in plan.files:
                sub = Subject(name=str(rel), sha256=entry["sha256"], size=entry["size"], cid=entry["cid"])
                result.written.append(fetch_subject(store, sub, folder, name / rel))
            for rel, target in plan.links:  # links last: no file is ever written through one
                folder.symlink(name / rel, target)
            for rel, target in plan.links:  # on disk, with every link in place, each must stay inside
                if not folder.resolves_inside(name / rel, name):
                    folder.remove(name / rel)
                    result.skipped.append(f"{name}/{rel} -> {target} (on disk, with the links already there, it points outside the folder)")
            result.skipped.extend(f"{name}/{line}" for line in plan.skipped)
    except BaseException:
        folder.rollback()
        raise
    folder.close()
    return result


@dataclass
class FetchResult:
    written: list[Path] = field(default_factory=list)
    """Files fetched and checked."""
    skipped: list[str] = field(default_factory=list)
    """Entries of a folder's manifest not recreated (links leaving the folder, special files), with why."""


def _subjects(bundle: ProofBundle, source: str) -> list[Any]:
    subjects = bundle.record.get("subjects")
    if not isinstance(subjects, list) or not subjects:
        raise UsageError(f"{source}: the record has no subjects to fetch")
    return subjects


def _plan_subject(raw: Any, body: Any, source: str) -> tuple[PurePosixPath, Subject, FetchPlan | None]:
    """Check one subject (and a folder's manifest) before anything is written."""
    from pydantic import ValidationError

    from .manifest import manifest_digest

    try:
        subject = Subject.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        raise UsageError(f"{source}: a subject of the record is malformed: field "
                         f"'{'.'.join(str(x) for x in first['loc'])}': {first['msg']}") from None
    name = PurePosixPath(safe_relative(subject.name, f"{source}: subject").name)
    if subject.media_type != "inode/directory":
        return name, subject, None
    entries = body.get("manifest") if isinstance(body, dict) else None
    plan = plan_folder(entries, f"{source}: folder {subject.name}")
    try:
        matches = to_0x(manifest_digest(entries)) == subject.sha256  # type: ignore[arg-type]
    except ValueError:
        matches = False
    if not matches:
        raise UsageError(f"{source}: folder {subject.name} has no manifest matching its digest in the record")
    for rel, entry in plan.files:
        if not entry.get("cid"):
            raise UsageError(f"{source}: file {rel} of {subject.name} has no CID in the record")
    return name, subject, plan
