"""Streaming hashing of files and folders into record subjects.

One read of the data feeds every hash asked for: sha256 (always: it is the subject's digest),
BLAKE3 (optional) and the IPFS UnixFS CID (optional, see :mod:`bctrace.cid`). Files are read in
fixed blocks into a few reused buffers, so memory stays flat whatever the size.

Speed comes from hashlib and blake3 releasing the GIL on large buffers: when a CID or BLAKE3 is
wanted, each runs on a helper thread of its own (the CID's per-chunk sha256 on one, BLAKE3 on
another) while the main thread feeds the whole-file sha256, so the operating system spreads the
three over the cores: on two cores "sha256 + CID" costs little more than sha256 alone, and
"sha256 + CID + BLAKE3" approaches the two-core bound the benchmark prints (the work is two
sha256 passes and one BLAKE3 pass). The files of a folder are hashed on a thread pool (one
worker per core). Measured in ``python -m benchmarks --only hashing``.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SubjectMismatch, UsageError
from .cid import CidParams, UnixFSBuilder, cid_to_str
from .hexutil import to_0x
from .record import Subject

BLOCK = 4 << 20
"""Read size. Large enough that hashlib releases the GIL and syscalls are rare; a multiple of
the 256 KiB and 1 MiB CID chunk sizes so that chunks never straddle two reads."""
PROGRESS_THRESHOLD = 64 << 20
"""Inputs smaller than this get no progress bar even when one is asked for."""

Progress = Callable[[int], None]
"""Called with the number of bytes just hashed (from any thread)."""


@dataclass(frozen=True)
class FileHashes:
    """Everything one pass over a file produced."""

    sha256: bytes
    size: int
    blake3: bytes | None = None
    cid: str | None = None
    cid_params: CidParams | None = None
    cid_tsize: int | None = None
    """Cumulative size of the file's DAG: what a folder's directory node links to it with."""

    def subject(self, name: str) -> Subject:
        return Subject(
            name=name,
            sha256=to_0x(self.sha256),
            size=self.size,
            cid=self.cid,
            cid_params=self.cid_params.to_dict() if self.cid_params else None,
            digests={"blake3": to_0x(self.blake3)} if self.blake3 is not None else None,
        )


def text_name(name: str, where: str, what: str = "the name") -> str:
    """``name`` if it is valid UTF-8 text, else a :class:`UsageError` showing its bytes.

    Records are JSON, whose strings are Unicode text; a file name made of other bytes (which
    Python carries as lone surrogates) cannot be recorded as it is, and a lossy stand-in would
    let two different names look the same. So it is refused, with the bytes shown escaped."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        def shown(text: str) -> str:
            return os.fsencode(text).decode("utf-8", "backslashreplace")

        raise UsageError(f"{shown(where)}: {what} '{shown(name)}' is not valid UTF-8, so it cannot be recorded; "
                         "rename it (e.g. with convmv) or stamp an archive of the folder") from None
    return name


def cid_params_for(cid: bool | CidParams | None) -> CidParams | None:
    """``True`` means Kubo's default chunking (256 KiB); a :class:`CidParams` picks another."""
    if isinstance(cid, CidParams):
        return cid
    return CidParams() if cid else None


def _block_size(params: CidParams | None) -> int:
    if params is None:
        return BLOCK
    return max(1, BLOCK // params.chunk_size) * params.chunk_size


def _fill(fh: Any, view: memoryview) -> int:
    """Read until ``view`` is full or the file ends: chunk boundaries must not move with short reads."""
    total = 0
    while total < len(view):
        n = fh.readinto(view[total:])
        if not n:
            break
        total += n
    return total


def _chunk_digests(view: memoryview, chunk: int) -> list[tuple[bytes, int]]:
    return [(hashlib.sha256(view[i : i + chunk]).digest(), len(view[i : i + chunk])) for i in range(0, len(view), chunk)]


def hash_file(
    path: str | os.PathLike[str],
    *,
    cid: bool | CidParams | None = None,
    blake3: bool = False,
    on_progress: Progress | None = None,
) -> FileHashes:
    """Hash one regular file in a single streaming pass."""
    params = cid_params_for(cid)
    p = Path(path)
    sha = hashlib.sha256()
    b3 = _blake3() if blake3 else None
    builder = UnixFSBuilder(params) if params else None
    block = _block_size(params)
    size = 0
    try:
        with p.open("rb", buffering=0) as fh:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            expected = os.fstat(fh.fileno()).st_size
            if (builder is not None or b3 is not None) and expected > block:
                size = _pipelined(fh, block, sha, b3, builder, params.chunk_size if params else 0, on_progress)
            else:
                # Small files get a small buffer (a folder of many small files would otherwise
                # zero 4 MiB per file), still a whole number of CID chunks.
                want = expected + 1
                if params is not None:
                    want = -(-want // params.chunk_size) * params.chunk_size
                buf = bytearray(min(block, want))
                view = memoryview(buf)
                while n := _fill(fh, view):
                    data = view[:n]
                    sha.update(data)
                    if b3 is not None:
                        b3.update(data)
                    if builder is not None and params is not None:
                        for digest, length in _chunk_digests(data, params.chunk_size):
                            builder.add_leaf(digest, length)
                    size += n
                    if on_progress:
                        on_progress(n)
    except OSError as err:
        raise UsageError(f"cannot read {p}: {err.strerror or err}") from err
    root = builder.root_entry() if builder is not None else None
    return FileHashes(
        sha256=sha.digest(),
        size=size,
        blake3=b3.digest() if b3 is not None else None,
        cid=cid_to_str(root.cid) if root is not None else None,
        cid_params=params,
        cid_tsize=root.tsize if root is not None else None,
    )


def _pipelined(fh: Any, block: int, sha: Any, b3: Any, builder: UnixFSBuilder | None, chunk: int,
               on_progress: Progress | None) -> int:
    """Read once; the whole-file sha256 on this thread, the CID's chunk digests and BLAKE3 each on
    a helper thread of its own (one thread per hash keeps its updates in order)."""
    free = [bytearray(block) for _ in range(3)]
    pending: deque[tuple[Future[list[tuple[bytes, int]]] | None, Future[None] | None, bytearray]] = deque()
    size = 0

    def settle_oldest() -> None:
        leaves, blake, used = pending.popleft()
        if blake is not None:
            blake.result()
        if leaves is not None and builder is not None:
            for digest, length in leaves.result():
                builder.add_leaf(digest, length)
        free.append(used)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bctrace-cid") as cids, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="bctrace-blake3") as blakes:
        while True:
            if not free:
                settle_oldest()
            buf = free.pop()
            view = memoryview(buf)
            n = _fill(fh, view)
            if not n:
                free.append(buf)
                break
            data = view[:n]
            pending.append((cids.submit(_chunk_digests, data, chunk) if builder is not None else None,
                            blakes.submit(b3.update, data) if b3 is not None else None, buf))
            sha.update(data)
            size += n
            if on_progress:
                on_progress(n)
        while pending:
            settle_oldest()
    return size


def _blake3() -> Any:
    try:
        from blake3 import blake3
    except ImportError as err:  # pragma: no cover - blake3 ships with the ipfs extra
        raise UsageError("blake3 hashing needs the 'blake3' package (pip install 'bctrace[ipfs]')") from err
    return blake3()


def hash_files(
    paths: list[Path],
    *,
    cid: bool | CidParams | None = None,
    blake3: bool = False,
    on_progress: Progress | None = None,
    workers: int | None = None,
) -> list[FileHashes]:
    """Hash many files in parallel (one thread per core), results in the order given."""
    if len(paths) <= 1:
        return [hash_file(p, cid=cid, blake3=blake3, on_progress=on_progress) for p in paths]
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2, thread_name_prefix="bctrace-hash") as pool:
        return list(pool.map(lambda p: hash_file(p, cid=cid, blake3=blake3, on_progress=on_progress), paths))


@contextmanager
def progress_bar(total: int, label: str, enabled: bool) -> Iterator[Progress | None]:
    """A rich progress bar on stderr for large inputs; ``None`` (no callback) otherwise."""
    if not enabled or total < PROGRESS_THRESHOLD:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"hashing {label}", total=total)
        yield lambda n: bar.advance(task, n)


def subject_for_path(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    progress: bool = False,
    cid: bool | CidParams = False,
    blake3: bool = False,
) -> tuple[Subject, dict[str, Any] | None]:
    """The subject of a file or folder, and (for a folder) the record body holding its manifest.

    :param cid: also compute the IPFS CID (``True``: 256 KiB chunks; or a :class:`CidParams`).
    :param blake3: also compute BLAKE3, recorded in ``Subject.digests``.
    :param progress: show a progress bar on stderr for large inputs.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise UsageError(f"path {p} does not exist") from None
    except OSError as err:
        raise UsageError(f"cannot read {p}: {err.strerror}") from err
    label = text_name(name or p.name, f"stamp {p}")
    if stat.S_ISDIR(st.st_mode):
        from .manifest import build_manifest

        manifest = build_manifest(p, cid=cid, blake3=blake3, progress=progress)
        return manifest.subject(label), manifest.body()
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{p} is not a regular file or folder")
    with progress_bar(st.st_size, label, progress) as on_progress:
        hashes = hash_file(p, cid=cid, blake3=blake3, on_progress=on_progress)
    return hashes.subject(label), None


def check_subject(path: str | os.PathLike[str], subject: Subject, body: dict[str, Any] | None = None, *,
                  progress: bool = False) -> None:
    """Raise :class:`SubjectMismatch` naming the file (or, for a folder, every changed, added and
    removed file) if ``path`` no longer matches ``subject``.

    :param progress: show a progress bar on stderr for large inputs, as ``stamp`` does."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        raise SubjectMismatch(f"{p} does not exist any more")
    if p.is_dir():
        from .manifest import verify_folder

        verify_folder(p, subject, body, progress=progress)
        return
    with progress_bar(p.stat().st_size, p.name, progress) as on_progress:
        hashes = hash_file(p, on_progress=on_progress)
    if to_0x(hashes.sha256) != subject.sha256:
        raise SubjectMismatch(f"{p} changed: sha256 is {to_0x(hashes.sha256)}, the record says {subject.sha256}")
    if subject.size is not None and hashes.size != subject.size:
        raise SubjectMismatch(f"{p} changed: size is {hashes.size}, the record says {subject.size}")
