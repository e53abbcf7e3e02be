"""A folder that nothing written into it can leave: where ``fetch`` puts what a bundle describes.

A bundle (and the manifest inside it) may come from anyone, and the folder it is fetched into
may already hold links left by an earlier fetch. Checking path *text* is not enough: a link
``up -> ../..`` makes ``up/../x`` mean something else on disk than on paper. So every path is
opened here component by component from a descriptor of the folder, with ``O_NOFOLLOW``: a
symlink anywhere on the way is refused, never followed, and no file, folder or link is ever
created, replaced or deleted outside the folder, whatever links exist. Files are written under a
temporary name in their final folder and renamed into place through the same descriptor.

Everything created is remembered, so a failed fetch takes it back (:meth:`ConfinedFolder.rollback`)
and leaves no half-filled or empty folder behind.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..errors import UsageError, WriteRefused

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
TEMP_PREFIX = ".bctrace-fetch-"


class ConfinedFolder:
    """Writes under ``root`` only. Create with the folder the user named; :meth:`close` when done."""

    def __init__(self, root: Path, *, source: str) -> None:
        self.source = source
        self.root = root
        self._created: list[tuple[int, str, bool]] = []
        """(parent descriptor, name, is a folder) of everything this object created, in order."""
        self._created_roots: list[Path] = []
        missing = [p for p in (root, *root.parents) if not os.path.lexists(p)]
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"cannot create folder {root}: {err.strerror}") from err
        self._created_roots = missing  # deepest first: the order to remove them in
        try:
            self._root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        except OSError as err:
            raise UsageError(f"cannot open folder {root}: {err.strerror}") from err
        self.real_root = Path(os.path.realpath(root))
        self._fds: dict[PurePosixPath, int] = {PurePosixPath(): self._root_fd}

    # -- folders ----------------------------------------------------------------------------

    def folder(self, rel: PurePosixPath) -> int:
        """Descriptor of folder ``rel`` (made if missing), reached without following any link."""
        if rel in self._fds:
            return self._fds[rel]
        parent = self.folder(rel.parent)
        name = rel.name
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            try:
                os.mkdir(name, 0o777, dir_fd=parent)
            except OSError as err:
                raise UsageError(f"cannot create folder {self.root / rel}: {err.strerror}") from err
            self._created.append((parent, name, True))
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except OSError as err:
            raise self._refusal(parent, rel, err) from None
        self._fds[rel] = fd
        return fd

    def _refusal(self, parent: int, rel: PurePosixPath, err: OSError) -> UsageError:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            if stat.S_ISLNK(os.stat(rel.name, dir_fd=parent, follow_symlinks=False).st_mode):
                return WriteRefused(f"{self.source}: {self.root / rel} is a symlink; nothing is written through a link")
            return WriteRefused(f"{self.source}: {self.root / rel} is not a folder; nothing can be written beneath it")
        return UsageError(f"cannot open folder {self.root / rel}: {err.strerror}")

    # -- files and links --------------------------------------------------------------------

    def _existing(self, dfd: int, rel: PurePosixPath) -> os.stat_result | None:
        try:
            st = os.stat(rel.name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if stat.S_ISDIR(st.st_mode):
            raise WriteRefused(f"{self.source}: {self.root / rel} exists as a folder; it is not replaced")
        return st

    def write_file(self, rel: PurePosixPath, fill: Callable[[BinaryIO], None]) -> Path:
        """Write a file through ``fill(fh)`` under a temporary name, then rename it to ``rel``
        (replacing a file or link of that name, never a folder). If ``fill`` raises, nothing is
        left behind."""
        dfd = self.folder(rel.parent)
        existed = self._existing(dfd, rel) is not None
        tmp = f"{TEMP_PREFIX}{secrets.token_hex(8)}"
        fd = os.open(tmp, _NEW_FILE_FLAGS, 0o666, dir_fd=dfd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fill(fh)
            os.replace(tmp, rel.name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except FileNotFoundError:
                pass
            raise
        if not existed:
            self._created.append((dfd, rel.name, False))
        return self.root / rel

    def symlink(self, rel: PurePosixPath, target: str) -> Path:
        """Make link ``rel`` pointing at ``target`` (replacing a file or link, never a folder)."""
        dfd = self.folder(rel.parent)
        st = self._existing(dfd, rel)
        if st is not None:
            if stat.S_ISLNK(st.st_mode) and os.readlink(rel.name, dir_fd=dfd) == target:
                return self.root / rel
            os.unlink(rel.name, dir_fd=dfd)
        os.symlink(target, rel.name, dir_fd=dfd)
        self._created.append((dfd, rel.name, False))
        return self.root / rel

    def resolves_inside(self, rel: PurePosixPath, within: PurePosixPath) -> bool:
        """Whether ``rel``, with every link on disk followed, ends inside folder ``within``."""
        real = Path(os.path.realpath(self.real_root / rel))
        base = self.real_root / within
        return real == base or base in real.parents

    def remove(self, rel: PurePosixPath) -> None:
        """Remove a file or link this object created (a link found to point outside)."""
        dfd = self.folder(rel.parent)
        os.unlink(rel.name, dir_fd=dfd)
        self._created = [c for c in self._created if not (c[0] == dfd and c[1] == rel.name)]

    # -- the end ----------------------------------------------------------------------------

    def rollback(self) -> None:
        """Remove everything this object created, newest first (folders only if empty), and the
        folder itself if it did not exist before."""
        for dfd, name, is_dir in reversed(self._created):
            try:
                if is_dir:
                    os.rmdir(name, dir_fd=dfd)
                else:
                    os.unlink(name, dir_fd=dfd)
            except OSError:
                pass
        self._created.clear()
        self.close()
        for path in self._created_roots:
            try:
                path.rmdir()
            except OSError:
                break

    def close(self) -> None:
        for fd in set(self._fds.values()):
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()
