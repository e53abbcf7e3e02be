"""Private texts: a subject whose recorded hash is salted, so a bundle cannot confirm a guess.

A plain ``sha256`` of a short text ("my idea") lets anyone holding the bundle test guesses. A
salted text subject instead records ``SHA-256(salt || text)``: ``salt`` is 32 random bytes,
``text`` the exact UTF-8 bytes, ``||`` concatenation. The subject says so with
``"hash_scheme": "salted-sha256-v1"``; subjects without ``hash_scheme`` are plain SHA-256 (as
every bundle written before this scheme), so old bundles verify unchanged.

The salt never goes into the record, the bundle or the outbox (a bundle holding the salt would
confirm guesses just the same): it stays in the producer's state folder, one file per subject,
``STATE_DIR/salts/<recorded hash>.salt`` holding the salt as ``0x`` hex. The producer hands it
to whoever should be able to check the text (``bctrace verify --text ... --salt 0x...``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from pathlib import Path

from ..errors import BundleError, SubjectMismatch, UsageError
from .atomicfile import write_private
from .hexutil import from_0x, to_0x
from .record import Subject, SubjectView

SALTED_SCHEME = "salted-sha256-v1"
"""The value of a subject's ``hash_scheme`` when its ``sha256`` is SHA-256(salt || content)."""
SALT_BYTES = 32
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


def salted_sha256(salt: bytes, content: bytes) -> bytes:
    """SHA-256 of the salt bytes followed by the content bytes."""
    return hashlib.sha256(salt + content).digest()


def parse_salt(value: str) -> bytes:
    """A salt given as ``0x`` hex (32 bytes); a clear usage error otherwise."""
    try:
        return from_0x(value.strip(), what="salt", length=SALT_BYTES)
    except ValueError as err:
        raise UsageError(f"salt {value!r} is not 0x followed by {2 * SALT_BYTES} hex digits: {err}") from None


def salt_file(state_dir: Path, recorded: str) -> Path:
    """Where the producer keeps the salt of the subject whose recorded hash is ``recorded``."""
    return state_dir / "salts" / f"{recorded.lower()}.salt"


def salted_text_subject(text: str, state_dir: Path, *, name: str = "text", salt: bytes | None = None) -> tuple[Subject, Path]:
    """A subject for ``text`` hashed with a (new random, or given) salt, the salt kept in
    ``state_dir``; returns the subject and the salt file."""
    data = text.encode("utf-8")
    key = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    recorded = to_0x(salted_sha256(key, data))
    path = write_private(salt_file(state_dir, recorded), (to_0x(key) + "\n").encode())
    subject = Subject(name=name, sha256=recorded, size=len(data), media_type=TEXT_MEDIA_TYPE, hash_scheme=SALTED_SCHEME)
    return subject, path


def check_text(text: str, subjects: Sequence[SubjectView], source: str, *, salt: str | None, state_dir: Path) -> str:
    """Check ``text`` against the subjects of a record; return the name of the subject it matches.

    A salted subject takes ``salt`` if given, else the producer's salt file in ``state_dir``.
    Raises :class:`SubjectMismatch` (exit 1) when no subject matches, and :class:`UsageError`
    (exit 2) when a salted subject's salt is neither given nor found.
    """
    if not subjects:
        raise BundleError(f"{source}: the record has no subject to compare the text with")
    data = text.encode("utf-8")
    given = parse_salt(salt) if salt is not None else None
    missing: list[tuple[SubjectView, Path]] = []
    for subject in subjects:
        scheme = getattr(subject, "hash_scheme", None)
        if scheme is None:
            if to_0x(hashlib.sha256(data).digest()) == subject.sha256.lower():
                return subject.name
        elif scheme == SALTED_SCHEME:
            key = given
            path = salt_file(state_dir, subject.sha256)
            if key is None and path.is_file():
                key = parse_salt(path.read_text(encoding="utf-8"))
            if key is None:
                missing.append((subject, path))
            elif to_0x(salted_sha256(key, data)) == subject.sha256.lower():
                return subject.name
    if missing:  # the text may be the salted subject: cannot tell without its salt
        subject, path = missing[0]
        raise UsageError(f"{source}: no salt for subject {subject.name!r} ({subject.sha256}): looked for {path}; "
                         "give the producer's salt with --salt 0x...")
    names = ", ".join(repr(s.name) for s in subjects)
    raise SubjectMismatch(f"{source}: the text does not match subject {names}")
