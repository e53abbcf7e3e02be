"""The state of a git repository as a record: which code exactly produced a result.

A commit id alone does not say what ran when the working tree had local changes, so the record
also carries the sha256 of the uncommitted diff (``git diff HEAD --binary``: staged and unstaged
changes to tracked files) and the path, size and sha256 of every untracked, not-ignored file.
Remote URLs are recorded without credentials. A ``git archive`` tarball of the commit is hashed
as the record's subject (and optionally uploaded to a content store).

git itself is driven with ``subprocess`` (no library): its plumbing output is stable and git is
what the user already has.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import UsageError, one_line
from .hashing import hash_files, subject_for_path
from .hexutil import to_0x
from .record import canonical_bytes

if TYPE_CHECKING:
    from .tracer import Recorded, Tracer

BUNDLE_SUFFIX = ".git.bctrace.json"


def _git(repo: Path, *args: str, check: bool = True) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError as err:
        raise UsageError("git is not installed (needed by stamp --git)") from err
    if done.returncode != 0:
        if check:
            message = one_line(done.stderr.decode(errors="replace"))
            raise UsageError(f"{repo}: git {args[0]} failed: {message}")
        return None
    return done.stdout


def _text(repo: Path, *args: str) -> str | None:
    out = _git(repo, *args, check=False)
    return out.decode().strip() if out is not None else None


def strip_credentials(url: str) -> str:
    """``https://user:token@host/x`` -> ``https://host/x``; scp-style and local paths unchanged."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def git_state(repo: Path) -> dict[str, Any]:
    """Commit, tree, branch, remote, uncommitted diff digest and untracked files of ``repo``."""
    top_text = _text(repo, "rev-parse", "--show-toplevel")
    if top_text is None:
        raise UsageError(f"{repo} is not inside a git repository")
    top = Path(top_text)
    commit = _text(top, "rev-parse", "--verify", "HEAD")
    if commit is None:
        raise UsageError(f"{top}: the repository has no commit yet")
    diff = _git(top, "diff", "HEAD", "--binary", "--no-ext-diff", "--no-color") or b""
    listed = (_git(top, "ls-files", "--others", "--exclude-standard", "-z") or b"").split(b"\0")
    # bctrace's own state and bundles change with every stamp: they are not the code's state.
    untracked_paths = sorted(
        p for p in (raw.decode() for raw in listed if raw)
        if not (p.startswith(".bctrace/") or "/.bctrace/" in p or p.endswith(".bctrace.json"))
    )
    files = [top / p for p in untracked_paths]
    regular = [f for f in files if f.is_file() and not f.is_symlink()]
    by_path = dict(zip(regular, hash_files(regular), strict=False))
    untracked = [
        {"path": p, "size": by_path[f].size, "sha256": to_0x(by_path[f].sha256)} if f in by_path else {"path": p, "type": "other"}
        for p, f in zip(untracked_paths, files, strict=False)
    ]
    remote = _text(top, "remote", "get-url", "origin")
    state: dict[str, Any] = {
        "commit": commit,
        "tree": _text(top, "rev-parse", "HEAD^{tree}"),
        "branch": _text(top, "symbolic-ref", "--short", "-q", "HEAD"),
        "remote": strip_credentials(remote) if remote else None,
        "dirty": bool(diff) or bool(untracked),
        "diff_sha256": to_0x(hashlib.sha256(diff).digest()),
        "diff_size": len(diff),
        "untracked": untracked,
        "untracked_sha256": to_0x(hashlib.sha256(canonical_bytes(untracked)).digest()),
    }
    return {k: v for k, v in state.items() if v is not None}


def stamp_git(tracer: Tracer, repo: Path, *, store: str | None = None, archive: bool = True) -> Recorded:
    """Record the state of the git repository at ``repo``; its bundle goes beside the repository
    as ``NAME.git.bctrace.json``.

    :param archive: make the record's subject the ``git archive --format=tar`` tarball of the
        commit (name, size, sha256), which anyone with the repository can rebuild and compare.
    :param store: also upload that tarball to this content store (the subject gets its CID).
    """
    state = git_state(Path(repo))
    top = Path(_text(Path(repo), "rev-parse", "--show-toplevel") or repo)
    subjects = []
    if archive or store is not None:
        with tempfile.TemporaryDirectory(prefix="bctrace-git-") as tmp:
            tar = Path(tmp) / f"{top.name}-{state['commit'][:12]}.tar"
            with tar.open("wb") as out:
                try:
                    done = subprocess.run(["git", "-C", str(top), "archive", "--format=tar", state["commit"]], stdout=out, stderr=subprocess.PIPE, check=False)
                except FileNotFoundError as err:  # pragma: no cover - git ran above
                    raise UsageError("git is not installed") from err
            if done.returncode != 0:
                raise UsageError(f"{top}: git archive failed: {one_line(done.stderr.decode(errors='replace'))}")
            subject, _ = subject_for_path(tar, cid=store is not None)
            subject = subject.model_copy(update={"media_type": "application/x-tar"})
            if store is not None:
                from .stores import put_subject

                with tracer.store(store) as opened:
                    subject = put_subject(opened, tar, subject)
                state["archive"] = {"store": store, "cid": subject.cid, "format": "git archive --format=tar"}
            subjects.append(subject)
    return tracer.record("git", {"git": state}, subjects=subjects, bundle_path=top.parent / (top.name + BUNDLE_SUFFIX))
