"""Folder manifests: a dataset folder as a deterministic list of what it holds.

One entry per item under the folder, sorted by relative POSIX path (Python string order, i.e.
Unicode code points, the same on every OS):

- regular file: ``{"path", "size", "sha256"}`` plus, when asked for, ``"cid"`` and ``"blake3"``;
- symlink: ``{"path", "type": "symlink", "target"}`` - recorded as a link with its target, never
  followed (following could leave the folder or loop);
- empty folder: ``{"path", "type": "dir"}`` (non-empty folders are implied by their files);
- FIFO, socket or device: ``{"path", "type": "fifo" | "socket" | "char-device" |
  "block-device"}`` - recorded by kind, never read (a FIFO blocks, a device never ends).

The folder's digest is ``sha256(RFC 8785(entries without "cid" and "blake3"))``: the same folder
has the same digest whether or not CIDs were computed. With CIDs, the folder also gets its UnixFS
directory CID, equal to ``ipfs add -r --cid-version=1 --raw-leaves --hidden`` of its regular files
and folders (symlinks and special files are described in the manifest only). The manifest travels in the record body
(``{"manifest": [...], "manifest_format": "bctrace-manifest-v1"}``) so that verification can
name every file that changed, appeared or disappeared.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SubjectMismatch, UsageError
from .cid import Block, CidParams, cid_from_str, cid_to_str, folder_dag
from .hashing import cid_params_for, hash_files, progress_bar
from .hexutil import to_0x
from .record import Subject, canonical_bytes

FORMAT = "bctrace-manifest-v1"
EXTRA_KEYS = ("cid", "blake3")
"""Entry keys that describe the same bytes again and so stay out of the folder's digest."""
_SPECIAL = {stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket", stat.S_IFCHR: "char-device", stat.S_IFBLK: "block-device"}
_LISTED = 20


@dataclass(frozen=True)
class Manifest:
    folder: Path
    entries: list[dict[str, Any]]
    cid_params: CidParams | None = None
    cid: str | None = None
    """The folder's UnixFS CID (regular files and folders; links and special files left out)."""
    blocks: tuple[Block, ...] = ()
    """The folder's directory blocks, children before parents: what a store needs besides the files."""

    @property
    def digest(self) -> bytes:
        return manifest_digest(self.entries)

    @property
    def size(self) -> int:
        return sum(e.get("size", 0) for e in self.entries)

    def files(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if "type" not in e]

    def subject(self, name: str) -> Subject:
        params = {**self.cid_params.to_dict(), "directory": "basic"} if self.cid_params and self.cid else None
        return Subject(name=name, sha256=to_0x(self.digest), size=self.size, cid=self.cid, cid_params=params,
                       media_type="inode/directory")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"manifest_format": FORMAT, "manifest": self.entries}
        if self.cid_params is not None:
            body["cid_params"] = self.cid_params.to_dict()
        return body


def manifest_digest(entries: list[dict[str, Any]]) -> bytes:
    core = [{k: v for k, v in e.items() if k not in EXTRA_KEYS} for e in entries]
    return hashlib.sha256(canonical_bytes(core)).digest()


def scan(folder: Path) -> tuple[list[dict[str, Any]], list[Path]]:
    """Entries without hashes yet, and the regular files to hash (in entry order)."""
    entries: list[dict[str, Any]] = []
    files: list[Path] = []

    def walk(directory: Path, prefix: str) -> None:
        try:
            items = sorted(os.scandir(directory), key=lambda d: d.name)
        except OSError as err:
            raise UsageError(f"cannot list {directory}: {err.strerror}") from err
        if not items and prefix:
            entries.append({"path": prefix.rstrip("/"), "type": "dir"})
        for item in items:
            rel = prefix + item.name
            mode = item.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                entries.append({"path": rel, "type": "symlink", "target": os.readlink(item.path)})
            elif stat.S_ISDIR(mode):
                walk(Path(item.path), rel + "/")
            elif stat.S_ISREG(mode):
                entries.append({"path": rel})
                files.append(Path(item.path))
            else:
                entries.append({"path": rel, "type": _SPECIAL.get(stat.S_IFMT(mode), "unknown")})

    walk(folder, "")
    order = sorted(range(len(entries)), key=lambda i: entries[i]["path"])
    entries = [entries[i] for i in order]
    files = sorted(files, key=lambda f: f.relative_to(folder).as_posix())
    return entries, files


def build_manifest(
    folder: str | os.PathLike[str], *, cid: bool | CidParams = False, blake3: bool = False, progress: bool = False
) -> Manifest:
    """Hash every file of ``folder`` (in parallel) into its manifest."""
    root = Path(folder)
    params = cid_params_for(cid)
    entries, files = scan(root)
    total = sum(f.stat().st_size for f in files)
    with progress_bar(total, root.name, progress) as on_progress:
        hashes = hash_files(files, cid=params, blake3=blake3, on_progress=on_progress)
    by_path = {f.relative_to(root).as_posix(): h for f, h in zip(files, hashes, strict=False)}
    for entry in entries:
        h = by_path.get(entry["path"])
        if h is None or "type" in entry:
            continue
        entry["size"] = h.size
        entry["sha256"] = to_0x(h.sha256)
        if h.cid is not None:
            entry["cid"] = h.cid
        if h.blake3 is not None:
            entry["blake3"] = to_0x(h.blake3)
    if params is None:
        return Manifest(root, entries)
    links = {path: (cid_from_str(h.cid), h.cid_tsize) for path, h in by_path.items() if h.cid and h.cid_tsize is not None}
    try:
        top, blocks = folder_dag(links, [e["path"] for e in entries if e.get("type") == "dir"])
    except ValueError as err:
        raise UsageError(f"folder {root}: no IPFS CID: {err}") from err
    return Manifest(root, entries, params, cid_to_str(top.cid), tuple(blocks))


def diff(recorded: list[dict[str, Any]], current: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """Paths changed, added and removed between two manifests (extra keys ignored)."""

    def core(e: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in e.items() if k not in EXTRA_KEYS}

    old = {e["path"]: core(e) for e in recorded}
    new = {e["path"]: core(e) for e in current}
    changed = sorted(p for p in old.keys() & new.keys() if old[p] != new[p])
    return changed, sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())


def _names(label: str, paths: list[str]) -> str:
    shown = ", ".join(paths[:_LISTED])
    more = f" and {len(paths) - _LISTED} more" if len(paths) > _LISTED else ""
    return f"{label} {len(paths)}: {shown}{more}"


def verify_folder(folder: Path, subject: Subject, body: dict[str, Any] | None) -> None:
    """Raise :class:`SubjectMismatch` naming every changed, added and removed file."""
    current = build_manifest(folder)
    recorded = (body or {}).get("manifest")
    if isinstance(recorded, list):
        changed, added, removed = diff(recorded, current.entries)
        parts = [_names(label, paths) for label, paths in (("changed", changed), ("added", added), ("removed", removed)) if paths]
        if parts:
            raise SubjectMismatch(f"folder {folder} does not match its record: {'; '.join(parts)}")
    if to_0x(current.digest) != subject.sha256:
        raise SubjectMismatch(f"folder {folder} changed: manifest digest is {to_0x(current.digest)}, the record says {subject.sha256}")
