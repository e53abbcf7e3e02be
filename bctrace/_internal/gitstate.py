"""The state of a git repository: which code exactly produced a result. Read here, once, for
both ``stamp --git`` (:func:`git_state`) and ML runs (:func:`run_git_state`).

A commit id alone does not say what ran when the working tree had local changes, so the state
also carries the sha256 of the uncommitted diff (``git diff HEAD --binary``: staged and unstaged
changes to tracked files) and the path, size and sha256 of untracked, not-ignored files
(bctrace's own state and bundles excluded: they change with every stamp). Remote URLs are
recorded without credentials. :func:`git_archive` writes the ``git archive`` tarball of a
commit, which ``stamp --git`` hashes as the record's subject.

git itself is driven with ``subprocess`` (no library): its plumbing output is stable and git is
what the user already has. Reading the state costs four git calls.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import SubjectMismatch, UsageError, one_line
from .hashing import hash_files, text_name
from .hexutil import to_0x
from .record import canonical_bytes

BUNDLE_SUFFIX = ".git.bctrace.json"
_TIMEOUT = 60
SOURCE_SUFFIXES = frozenset(
    ".py .pyx .pxd .pyi .ipynb .toml .cfg .ini .yaml .yml .sh .r .jl .c .cc .cpp .h .hpp .cu .rs .go .sql".split()
)
"""Untracked files with these suffixes count as source in an ML run; data and outputs (csv,
json, models) are declared as inputs/outputs instead, so a re-run's outputs do not look like a
code change."""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, timeout=_TIMEOUT, check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError as err:
        raise UsageError("git is not installed") from err
    except subprocess.TimeoutExpired as err:
        raise UsageError(f"{repo}: git {args[0]} did not answer within {_TIMEOUT} s") from err


def strip_credentials(url: str) -> str:
    """``https://user:token@host/x`` -> ``https://host/x``; scp-style and local paths unchanged."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


@dataclass(frozen=True)
class GitSnapshot:
    """What git says about a working tree, read once."""

    top: Path
    commit: str | None
    """``None`` in a repository without a commit yet."""
    branch: str | None
    remote: str | None
    """``origin``'s URL (else the first remote's), credentials stripped."""
    changed_files: int
    diff_sha256: str
    diff_size: int
    untracked: tuple[str, ...]
    """Untracked, not-ignored paths relative to ``top``, bctrace's own files left out."""

    def hash_untracked(self, keep: frozenset[str] | None = None) -> list[dict[str, Any]]:
        """``path``/``size``/``sha256`` of each untracked regular file (hashed in parallel);
        ``{"path", "type": "other"}`` for anything else. ``keep``: only these suffixes."""
        paths = [p for p in self.untracked if keep is None or Path(p).suffix.lower() in keep]
        files = [self.top / p for p in paths]
        regular = [f for f in files if f.is_file() and not f.is_symlink()]
        by_path = dict(zip(regular, hash_files(regular), strict=True))
        return [
            {"path": p, "size": by_path[f].size, "sha256": to_0x(by_path[f].sha256)} if f in by_path else {"path": p, "type": "other"}
            for p, f in zip(paths, files, strict=True)
        ]


def _own_file(path: str) -> bool:
    return ".bctrace" in Path(path).parts or path.endswith(".bctrace.json")


def read_git(repo: Path) -> GitSnapshot | None:
    """The state of the working tree containing ``repo``, or ``None`` outside a repository."""
    top_out = _git(repo, "rev-parse", "--show-toplevel")
    if top_out.returncode != 0:
        return None
    top = Path(top_out.stdout.decode().strip())
    status = _git(top, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all")
    if status.returncode != 0:
        raise UsageError(f"{top}: git status failed: {one_line(status.stderr.decode(errors='replace'))}")
    commit = branch = None
    changed = 0
    untracked: list[str] = []
    for entry in status.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if entry.startswith("# branch.oid "):
            oid = entry.split(" ", 2)[2]
            commit = None if oid == "(initial)" else oid
        elif entry.startswith("# branch.head "):
            head = entry.split(" ", 2)[2]
            branch = None if head == "(detached)" else head
        elif entry.startswith("? "):
            if not _own_file(entry[2:]):
                untracked.append(text_name(entry[2:], f"untracked files of {top}"))
        elif entry[:2] in ("1 ", "2 ", "u "):
            changed += 1
    diff = _git(top, "diff", "HEAD" if commit else "--cached", "--binary", "--no-color", "--no-ext-diff")
    diff_bytes = diff.stdout if diff.returncode == 0 else b""
    return GitSnapshot(
        top=top, commit=commit, branch=branch, remote=_remote_url(top), changed_files=changed,
        diff_sha256=to_0x(hashlib.sha256(diff_bytes).digest()), diff_size=len(diff_bytes), untracked=tuple(sorted(untracked)),
    )


def _remote_url(top: Path) -> str | None:
    out = _git(top, "config", "--get-regexp", r"^remote\..*\.url$")
    if out.returncode != 0:
        return None
    urls = dict(line.split(" ", 1) for line in out.stdout.decode().splitlines() if " " in line)
    url = urls.get("remote.origin.url") or next(iter(urls.values()), None)
    return strip_credentials(url) if url else None


def repo_top(repo: Path) -> Path:
    """The top folder of the working tree containing ``repo``."""
    out = _git(repo, "rev-parse", "--show-toplevel")
    if out.returncode != 0:
        raise UsageError(f"{repo} is not inside a git repository")
    return Path(out.stdout.decode().strip())


def git_state(repo: Path) -> dict[str, Any]:
    """The ``git`` body of a ``stamp --git`` record: commit, tree, branch, remote, uncommitted
    diff digest and every untracked file of the repository containing ``repo``."""
    snap = read_git(repo)
    if snap is None:
        raise UsageError(f"{repo} is not inside a git repository")
    if snap.commit is None:
        raise UsageError(f"{snap.top}: the repository has no commit yet")
    tree = _git(snap.top, "rev-parse", "HEAD^{tree}")
    untracked = snap.hash_untracked()
    state: dict[str, Any] = {
        "commit": snap.commit,
        "tree": tree.stdout.decode().strip() if tree.returncode == 0 else None,
        "branch": snap.branch,
        "remote": snap.remote,
        "dirty": bool(snap.diff_size) or bool(untracked),
        "diff_sha256": snap.diff_sha256,
        "diff_size": snap.diff_size,
        "untracked": untracked,
        "untracked_sha256": to_0x(hashlib.sha256(canonical_bytes(untracked)).digest()),
    }
    return {k: v for k, v in state.items() if v is not None}


def git_bundle_path(top: Path) -> Path:
    """Where the bundle of ``stamp --git`` of repository folder ``top`` lives (and where
    ``verify`` of that folder looks for it): beside it, ``NAME.git.bctrace.json``."""
    top = top.resolve()
    return top.parent / (top.name + BUNDLE_SUFFIX)


def check_git_state(repo: Path, record: dict[str, Any]) -> None:
    """Raise :class:`SubjectMismatch` naming what changed if the repository is no longer in the
    recorded state (another commit, other uncommitted changes, other untracked files)."""
    recorded = (record.get("body") or {}).get("git")
    if not isinstance(recorded, dict):
        raise SubjectMismatch(f"{repo}: the record holds no git state to compare with")
    current = git_state(repo)
    labels = {"commit": "HEAD", "tree": "the tree", "diff_sha256": "the uncommitted changes",
              "untracked_sha256": "the untracked files"}
    changed = [f"{label} differ" if key.endswith("sha256") else f"{label} is {current.get(key)}, the record says {recorded.get(key)}"
               for key, label in labels.items() if current.get(key) != recorded.get(key)]
    if changed:
        raise SubjectMismatch(f"repository {repo} is not in its recorded state: {'; '.join(changed)}")


def run_git_state(root: Path) -> dict[str, Any] | None:
    """The ``code.git`` field of an ML run record: like :func:`git_state`, but tolerant of a
    repository without commits and hashing only untracked *source* files (a training folder
    often holds large untracked data and outputs, declared and hashed as inputs/outputs)."""
    try:
        snap = read_git(root)
    except UsageError:
        return None  # no git, or git failed: the run is recorded without its code state
    if snap is None:
        return None
    sources = [{"path": s["path"], "sha256": s["sha256"]} for s in snap.hash_untracked(SOURCE_SUFFIXES) if "sha256" in s]
    h = hashlib.sha256()
    for s in sources:
        h.update(s["path"].encode() + b"\0" + s["sha256"].encode() + b"\n")
    return {
        "commit": snap.commit,
        "branch": snap.branch,
        "remote": snap.remote,
        "dirty": bool(snap.changed_files or sources),
        "changed_files": snap.changed_files,
        "diff_sha256": snap.diff_sha256 if snap.diff_size else None,
        "untracked_sources": sources,
        "untracked_sha256": to_0x(h.digest()) if sources else None,
    }


def git_archive(top: Path, commit: str, dest: Path) -> Path:
    """Write the ``git archive --format=tar`` tarball of ``commit`` to ``dest``."""
    with dest.open("wb") as out:
        try:
            done = subprocess.run(["git", "-C", str(top), "archive", "--format=tar", commit], stdout=out, stderr=subprocess.PIPE, check=False)
        except FileNotFoundError as err:  # pragma: no cover - git ran before
            raise UsageError("git is not installed") from err
    if done.returncode != 0:
        raise UsageError(f"{top}: git archive failed: {one_line(done.stderr.decode(errors='replace'))}")
    return dest
