"""Reading a folder manifest someone else wrote, before anything is written from it.

``fetch`` rebuilds a folder from the manifest inside a bundle, and a bundle can come from
anyone: its digest and proof only show that the manifest is the one that was anchored, not that
it is sane. So the whole manifest is checked first and turned into a plan; a malformed one is
one error naming the entry, and nothing has been written yet.

A manifest :func:`bctrace.manifest.scan` wrote has: relative POSIX paths without ``.``, ``..``
or empty parts, each path once, nothing beneath a file, a link or a special file, and links
with a non-empty target. Links are recreated only when their target, followed through the
manifest's own links the way the operating system would follow them, stays inside the folder;
the others (absolute targets, targets that climb out, loops) are listed as skipped.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ..errors import ManifestInvalid

_SHA256 = re.compile(r"^0x[0-9a-f]{64}$")
MAX_LINK_HOPS = 40
"""Links followed while resolving one target before it counts as a loop (Linux's limit)."""
SPECIAL = ("fifo", "socket", "char-device", "block-device", "unknown")


@dataclass
class FetchPlan:
    """What to make of a manifest: folders, files (with their entries), links, and what is skipped."""

    folders: list[PurePosixPath] = field(default_factory=list)
    files: list[tuple[PurePosixPath, dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[PurePosixPath, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """One line per entry that is described in the manifest but not recreated, with the reason."""


def safe_relative(path: Any, what: str) -> PurePosixPath:
    """A relative POSIX path with only real names in it, or :class:`ManifestInvalid`."""
    if not isinstance(path, str) or not path:
        raise ManifestInvalid(f"{what}: the path must be a non-empty string, got {_show(path)}")
    if "\x00" in path:
        raise ManifestInvalid(f"{what}: the path {_show(path)} contains a NUL character")
    if path.startswith("/"):
        raise ManifestInvalid(f"{what}: the path {_show(path)} is absolute; refused")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ManifestInvalid(f"{what}: the path {_show(path)} has an empty, '.' or '..' part; refused")
    return PurePosixPath(path)


def plan_folder(entries: Any, source: str) -> FetchPlan:
    """Check every entry of a manifest and return what to recreate, or raise naming the first
    bad entry."""
    if not isinstance(entries, list):
        raise ManifestInvalid(f"{source}: the manifest is not a list of entries")
    kinds: dict[str, str] = {}
    links: dict[str, str] = {}
    plan = FetchPlan()
    for index, entry in enumerate(entries):
        what = f"{source}: manifest entry {index}"
        if not isinstance(entry, dict):
            raise ManifestInvalid(f"{what} is not an object")
        if "path" not in entry:
            raise ManifestInvalid(f"{what} has no 'path'")
        rel = safe_relative(entry["path"], what)
        what = f"{source}: manifest entry {_show(entry['path'])}"
        if str(rel) in kinds:
            raise ManifestInvalid(f"{what} appears twice")
        kind = entry.get("type", "file")
        if kind == "file" and "type" in entry:
            raise ManifestInvalid(f"{what} has an unknown type 'file' (files have no type)")
        if kind == "file":
            _check_file(entry, what)
            plan.files.append((rel, entry))
        elif kind == "dir":
            plan.folders.append(rel)
        elif kind == "symlink":
            target = entry.get("target")
            if not isinstance(target, str) or not target or "\x00" in target:
                raise ManifestInvalid(f"{what} is a link without a usable target (got {_show(target)})")
            links[str(rel)] = target
        elif kind in SPECIAL:
            plan.skipped.append(f"{rel} (a {kind}: described in the record only)")
        else:
            raise ManifestInvalid(f"{what} has an unknown type {_show(kind)}")
        kinds[str(rel)] = kind
    for path in kinds:
        for parent in PurePosixPath(path).parents:
            if str(parent) != "." and kinds.get(str(parent), "dir") != "dir":
                raise ManifestInvalid(f"{source}: manifest entry {_show(path)} lies beneath {_show(str(parent))}, "
                                      f"which is a {kinds[str(parent)]}, not a folder")
    for path, target in links.items():
        if target.startswith("/"):
            plan.skipped.append(f"{path} -> {target} (an absolute link)")
        elif _resolve(PurePosixPath(path).parent.parts + tuple(target.split("/")), links) is None:
            plan.skipped.append(f"{path} -> {target} (points outside the folder, or loops)")
        else:
            plan.links.append((PurePosixPath(path), target))
    return plan


def _check_file(entry: dict[str, Any], what: str) -> None:
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestInvalid(f"{what} is a file without a valid 'size' (got {_show(size)})")
    sha = entry.get("sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise ManifestInvalid(f"{what} is a file without a valid 'sha256' (got {_show(sha)})")
    cid = entry.get("cid")
    if cid is not None and (not isinstance(cid, str) or not cid):
        raise ManifestInvalid(f"{what} has an invalid 'cid' (got {_show(cid)})")


def _resolve(parts: tuple[str, ...], links: dict[str, str]) -> list[str] | None:
    """Follow ``parts`` from the folder's top as the OS would, through the manifest's links:
    the path it ends at (as parts), or None if it climbs out of the folder, is absolute, or loops."""
    stack: list[str] = []
    queue = deque(parts)
    hops = 0
    while queue:
        part = queue.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                return None
            stack.pop()
            continue
        stack.append(part)
        target = links.get("/".join(stack))
        if target is not None:
            hops += 1
            if hops > MAX_LINK_HOPS or target.startswith("/"):
                return None
            stack.pop()
            queue.extendleft(reversed(target.split("/")))
    return stack


def _show(value: Any) -> str:
    """A value for an error message: repr, cut short (a hostile manifest may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
