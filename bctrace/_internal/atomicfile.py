"""Names of the temp files behind atomic writes, and the removal of ones a crash left behind.

A temp file is ``.NAME.<pid>.<random>.tmp`` beside ``NAME``: hidden, matched by no glob of the
final files (``*.bctrace.json``), and carrying the pid of the process that writes it, so that a
later write can tell a temp file of a killed process (removed) from one being written right now
by another process (left alone).

Finding them takes a listing of the folder. A writer of many files into one folder (a flush
writing every bundle of a batch) lists each folder once through one :class:`StaleTempSweep`:
listing it once per file made writing N bundles into one folder cost N listings of up to N
entries (writing the 10,000 bundles of a flush took 107 s at load 3.5; 1.5 s with one listing).
"""

from __future__ import annotations

import os
from pathlib import Path


def temp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # alive, owned by someone else; or no pid at all: leave it
        return True
    return True


def _temp_of(name: str) -> tuple[str, int] | None:
    """``(NAME, pid)`` of a temp file name ``.NAME.<pid>.<random>.tmp``; ``None`` for any other
    name (the user's own hidden files are never touched)."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return None
    head, dot, _random = name[1:-4].rpartition(".")
    target, dot2, pid = head.rpartition(".")
    if dot and dot2 and target and pid.isascii() and pid.isdigit() and len(pid) <= 10:
        return target, int(pid)
    return None


def stale_temps(folder: Path) -> dict[str, list[Path]]:
    """The temp files in ``folder`` whose writing process is gone, by the name of the file each
    was written for, in one listing of the folder."""
    found: dict[str, list[Path]] = {}
    try:
        entries = os.scandir(folder)
    except FileNotFoundError:
        return found
    with entries:
        for entry in entries:
            temp = _temp_of(entry.name)
            if temp is not None and temp[1] != os.getpid() and not _running(temp[1]):
                found.setdefault(temp[0], []).append(Path(entry.path))
    return found


class StaleTempSweep:
    """Removes the temp files killed processes left behind, for one run of writes (a flush):
    each folder is listed once, at its first write; then the stale temps of every file named
    ``*suffix`` in it go, and those of another file go when that file is written."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self._stale: dict[Path, dict[str, list[Path]]] = {}
        self.removed: list[Path] = []

    def __call__(self, target: Path) -> None:
        stale = self._stale.get(target.parent)
        if stale is None:
            stale = self._stale[target.parent] = stale_temps(target.parent)
            for name in [n for n in stale if n.endswith(self.suffix)]:
                self._remove(stale.pop(name))
        self._remove(stale.pop(target.name, []))

    def _remove(self, paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
            self.removed.append(path)


def write_private(path: Path, data: bytes, *, sync: bool = True) -> Path:
    """Write ``data`` to ``path`` readable by the owner only (mode 600, its folder 700) and
    rename it into place: for what the producer keeps and never shares (salts, disclosures).

    :param sync: fsync the file before the rename (survives a power loss, at a few ms a file);
        without it the file survives a crashed process, as the outbox's records do."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(temp_prefix(path) + "tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path
