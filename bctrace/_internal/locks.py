"""File locks between processes that can neither hang nor fail without saying where.

``filelock`` retries silently while the lock file cannot even be created (a folder that is not
writable, ``/proc/self``, a path beneath a file) and by default waits forever. Every lock
bctrace takes goes through :func:`locked`: the lock file is created first, so a folder that
cannot hold it is an error at once naming the path, and the wait is bounded, with an error
naming the lock file and how long was waited.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LockTimeout, LockUnavailable

if TYPE_CHECKING:
    from filelock import FileLock

DEFAULT_TIMEOUT = 120.0
"""Seconds to wait for a lock another process holds (ledger appends and outbox set-up hold
theirs for milliseconds; an EVM sender holds its own for one transaction)."""


@contextmanager
def locked(lock: FileLock, *, what: str, timeout: float | None = None, poll: float = 0.05) -> Iterator[None]:
    """Hold ``lock`` for the block. Keep one :class:`FileLock` object per path and process: the
    same object is re-entrant, two objects on one path in one process would wait for each other.

    :param what: what the lock protects, for the error messages (``"ledger /x/ledger.jsonl"``).
    :raises LockUnavailable: the lock file cannot be created (exit 2: fix the path).
    :param timeout: seconds to wait (default :data:`DEFAULT_TIMEOUT`).
    :param poll: seconds between attempts while another process holds the lock.
    :raises LockTimeout: another process held it for more than ``timeout`` seconds (exit 3).
    """
    from filelock import Timeout  # imported with the first lock taken: reading needs none

    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    path = Path(lock.lock_file)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise LockUnavailable(f"{what}: cannot create the lock file {path}: {reason}") from None
    try:
        lock.acquire(timeout=timeout, poll_interval=poll)
    except Timeout:
        raise LockTimeout(f"{what}: another process has held {path} for more than {timeout:g} s; "
                          "try again when it is done (nothing was lost)") from None
    try:
        yield
    finally:
        lock.release()
