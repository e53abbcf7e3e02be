"""Reading a user-named file whole, with a size cap: one place for the three ways it can fail
(missing, unreadable, too large), each one line naming the file, so that bundles, configs and
imported statements cannot exhaust memory and all speak the same way."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..errors import BctraceError


def read_bounded(path: Path, limit: int, what: str, error: Callable[[str], BctraceError], *, too_large: str = "") -> bytes:
    """The bytes of ``path``, at most ``limit`` of them; ``error(message)`` is raised with
    ``"{what} {path} ..."`` when the file is missing, unreadable or larger than ``limit``
    (``too_large`` is appended to that last message)."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            raw = _read_at_most(fd, limit + 1)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except OSError as err:
        raise error(f"{what} {path} cannot be read: {err.strerror or err}") from err
    if len(raw) > limit:
        raise error(f"{what} {path} is larger than {limit >> 20} MiB{too_large}")
    return raw


def _read_at_most(fd: int, count: int) -> bytes:
    """Up to ``count`` bytes of ``fd``, asking first for the file's size: a read of ``count``
    bytes allocates that much at once (64 MiB for a bundle), which cost more than parsing the
    bundle, and a plain ``os.read`` skips the buffered file object. A file with no size (a pipe)
    or one that grows meanwhile is read on in chunks up to ``count``."""
    size = min(os.fstat(fd).st_size, count - 1)
    first = os.read(fd, size + 1)
    if len(first) <= size:
        return first
    parts, total = [first], len(first)
    while total < count:
        chunk = os.read(fd, min(count - total, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)
