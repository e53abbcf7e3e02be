"""Names of the temp files behind atomic writes, and the removal of ones a crash left behind.

A temp file is ``.NAME.<pid>.<random>.tmp`` beside ``NAME``: hidden, matched by no glob of the
final files (``*.bctrace.json``), and carrying the pid of the process that writes it, so that a
later write can tell a temp file of a killed process (removed) from one being written right now
by another process (left alone).

Finding them takes a listing of the folder. A writer of many files into one folder (a flush
writing every bundle of a batch) lists each folder once through one :class:`StaleTempSweep`:
listing it once per file made writing N bundles into one folder cost N listings of up to N
entries (about 5 s of a 1,000-bundle flush, 50 s for 10,000).
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


def _writer_pid(name: str, suffix: str) -> int | None:
    """The pid in a temp file name ``.NAME.<pid>.<random>.tmp`` whose ``NAME`` ends with
    ``suffix``; ``None`` for any other name (the user's own hidden files are never touched)."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return None
    head, dot, _random = name[1:-4].rpartition(".")
    target, dot2, pid = head.rpartition(".")
    if dot and dot2 and target.endswith(suffix) and pid.isascii() and pid.isdigit() and len(pid) <= 10:
        return int(pid)
    return None


def remove_stale_temps(folder: Path, suffix: str) -> list[Path]:
    """Remove the temp files in ``folder`` of files named ``*suffix`` whose writing process is
    gone, in one listing of the folder; return what was removed."""
    removed: list[Path] = []
    try:
        entries = os.scandir(folder)
    except FileNotFoundError:
        return removed
    with entries:
        for entry in entries:
            pid = _writer_pid(entry.name, suffix)
            if pid is not None and pid != os.getpid() and not _running(pid):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed


class StaleTempSweep:
    """:func:`remove_stale_temps` once per folder, for one run of writes (a flush): a temp file
    left by a killed process goes with the next run that writes into its folder."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self._swept: set[Path] = set()

    def __call__(self, folder: Path) -> None:
        if folder not in self._swept:
            self._swept.add(folder)
            remove_stale_temps(folder, self.suffix)


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
