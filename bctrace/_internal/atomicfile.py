"""Names of the temp files behind atomic writes, and the removal of ones a crash left behind.

A temp file is ``.NAME.<pid>.<random>.tmp`` beside ``NAME``: hidden, matched by no glob of the
final files (``*.bctrace.json``), and carrying the pid of the process that writes it, so that a
later write can tell a temp file of a killed process (removed) from one being written right now
by another process (left alone).
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
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove temp files of ``target`` whose writing process is gone; return what was removed."""
    removed = []
    for tmp in target.parent.glob(f".{_escape(target.name)}.*.tmp"):
        pid_text = tmp.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _running(int(pid_text)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


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


def _escape(name: str) -> str:
    """``name`` with glob wildcards made literal."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
