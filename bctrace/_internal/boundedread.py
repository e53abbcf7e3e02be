"""Reading a user-named file whole, with a size cap: one place for the three ways it can fail
(missing, unreadable, too large), each one line naming the file, so that bundles, configs and
imported statements cannot exhaust memory and all speak the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import BctraceError


def read_bounded(path: Path, limit: int, what: str, error: Callable[[str], BctraceError], *, too_large: str = "") -> bytes:
    """The bytes of ``path``, at most ``limit`` of them; ``error(message)`` is raised with
    ``"{what} {path} ..."`` when the file is missing, unreadable or larger than ``limit``
    (``too_large`` is appended to that last message)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except OSError as err:
        raise error(f"{what} {path} cannot be read: {err.strerror or err}") from err
    if len(raw) > limit:
        raise error(f"{what} {path} is larger than {limit >> 20} MiB{too_large}")
    return raw
