"""Records: the unit bctrace makes tamper-evident.

A record is canonicalised with RFC 8785 (JSON Canonicalization Scheme, via the ``rfc8785``
package) and hashed with SHA-256; that digest is what goes into the Merkle tree. Optional fields
that are unset are left out of the canonical form, so adding an optional field later does not
change the digest of records that do not use it.

Numbers are IEEE-754 doubles, as RFC 8785 and JavaScript have them (:mod:`bctrace._internal.strictjson`):
an integer beyond 2**53 is canonicalised as the double it is (``10000000000000000``), and a
value whose JSON spelling would not read back as itself (``2**53 + 1``, NaN) is refused when the
record is made, so bctrace never writes a record it cannot verify.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone
from typing import Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .canonical import fast_canonical, is_plain
from .hexutil import Hex32, from_0x
from .strictjson import SAFE_INTEGER, JsonProblem, check_value

SCHEMA_VERSION = 1


class Subject(BaseModel):
    """A hashed thing a record speaks about: a file, a folder manifest, a model, a dataset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    sha256: Hex32
    size: int | None = Field(default=None, ge=0)
    cid: str | None = None
    cid_params: dict[str, Any] | None = None
    """How ``cid`` was computed (chunker, raw leaves, CID version), so anyone can recompute it."""
    digests: dict[str, str] | None = None
    """Further digests of the same bytes, e.g. ``{"blake3": "0x..."}``."""
    media_type: str | None = None
    hash_scheme: str | None = None
    """How ``sha256`` was computed when it is not the plain SHA-256 of the bytes:
    ``salted-sha256-v1`` is SHA-256(salt || content), the salt kept by the producer
    (:mod:`bctrace._internal.privatetext`)."""


class Record(BaseModel):
    """One step of a trace. Frozen: a record is never edited, only superseded by a later step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    kind: str = Field(min_length=1)
    """Open vocabulary: text, file, dataset, ml-run, donation, supply-step, authorship, ..."""
    kind_version: int | None = Field(default=None, ge=1)
    """The version of the kind's body model the body was checked against (registered kinds)."""
    trace: str = Field(default_factory=lambda: secrets.token_hex(16), min_length=1)
    seq: int = Field(default=0, ge=0)
    prev: Hex32 | None = None
    """Digest of step ``seq - 1`` of the same trace; a step cannot be dropped or reordered unseen."""
    created: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    author: str | None = None
    subjects: tuple[Subject, ...] = ()
    body: dict[str, Any] = Field(default_factory=dict)
    salt: str | None = None
    """Random hex that makes the digest of a short, guessable body unguessable."""
    signature: str | None = None
    """The author's signature of the record without this field (see ``_internal/authorship.py``)."""
    signature_scheme: str | None = None
    """The signer's scheme when it is not ``eip191`` (records without it were signed with eip191)."""

    @field_validator("created")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("created must be timezone-aware (UTC)")
        return value.astimezone(timezone.utc)

    @field_validator("body")
    @classmethod
    def _json_exact(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not is_plain(value):  # a plain value passes check_value: skip its slower walk
            check_value(value, "body")
        return value

    def to_json_dict(self) -> dict[str, Any]:
        """The record as plain JSON, as stored in bundles (unset optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)

    def canonical_bytes(self) -> bytes:
        """RFC 8785 bytes of the record: the exact input of :meth:`digest`. Raises ``ValueError``
        naming the field when a value would not read back as itself from its JSON."""
        data = self._plain_json_dict()
        fast = fast_canonical(data) if data is not None else None
        if fast is not None:
            return fast
        data = self.to_json_dict()
        fast = fast_canonical(data)
        if fast is not None:
            return fast
        check_value(data, "record")
        return canonical_bytes(data)

    def _plain_json_dict(self) -> dict[str, Any] | None:
        """What :meth:`to_json_dict` returns, built without pydantic's serializer (the hot path
        of ``Tracer.record``), or None where that is not certain (a datetime or subject
        subclass): the caller then takes the serializer. The body is the validated body itself,
        not a copy, so this is for canonicalising only, never handed out. A hypothesis test
        (``tests/unit/test_canonical.py``) checks its canonical bytes against the serializer's."""
        created = self.created
        stamp = created.isoformat() if type(created) is datetime else ""
        if not stamp.endswith("+00:00") or any(type(s) is not Subject for s in self.subjects):
            return None
        data: dict[str, Any] = {
            "schema_version": self.schema_version, "kind": self.kind, "trace": self.trace, "seq": self.seq,
            "created": stamp[:-6] + "Z", "body": self.body,
            "subjects": [s.model_dump(mode="json", exclude_none=True) for s in self.subjects],
        }
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data

    def digest(self) -> bytes:
        """SHA-256 of the canonical bytes (32 bytes)."""
        return hashlib.sha256(self.canonical_bytes()).digest()


_OPTIONAL = tuple(name for name, info in Record.model_fields.items() if info.default is None)
"""The record's fields left out of its JSON when unset."""


class SubjectView(Subject):
    """A subject as read from a bundle: fields a newer bctrace adds are kept, not refused."""

    model_config = ConfigDict(extra="allow")


class RecordView(BaseModel):
    """The fields of a record in a bundle that verification and ``bctrace show`` read, with their
    types checked, so that a record of the wrong shape is one clear error, never a crash.

    Verification hashes the record as written; this view is only for reading it. Fields a newer
    bctrace adds are allowed.
    """

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    schema_version: int = SCHEMA_VERSION
    kind: str
    trace: str
    seq: int = Field(default=0, ge=0)
    prev: Hex32 | None = None
    created: str | None = None
    author: str | None = None
    subjects: list[SubjectView] = Field(default_factory=list)
    body: dict[str, Any] = Field(default_factory=dict)
    salt: str | None = None
    signature: str | None = None


def canonical_bytes(obj: Any) -> bytes:
    """RFC 8785 canonical JSON of any JSON value, numbers as IEEE-754 doubles; NaN, infinities
    and integers that are not exactly a double are refused."""
    fast = fast_canonical(obj)
    if fast is not None:
        return fast
    try:
        return rfc8785.dumps(obj)
    except rfc8785.IntegerDomainError:
        pass  # an integer beyond 2**53: canonicalise it as the double it is (checked exact)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as err:
        raise ValueError(f"cannot canonicalise record: {err}") from err
    try:
        check_value(obj, "value")
        return rfc8785.dumps(_as_doubles(obj))
    except (JsonProblem, rfc8785.CanonicalizationError, TypeError, RecursionError) as err:
        raise ValueError(f"cannot canonicalise record: {err}") from err


def _as_doubles(value: Any) -> Any:
    """``value`` with every integer from 2**53 on replaced by its (equal) float."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) >= SAFE_INTEGER:
        return float(value)
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_doubles(v) for v in value]
    return value


def digest_of_json(record_json: dict[str, Any]) -> bytes:
    """Digest of a record given as JSON, without parsing it into a model first.

    Verification uses this so that a bundle whose record was tampered into an invalid shape still
    fails as a digest mismatch rather than as a parse error.
    """
    return hashlib.sha256(canonical_bytes(record_json)).digest()


def new_salt() -> str:
    """16 random bytes as hex, for records whose body could otherwise be guessed."""
    return secrets.token_hex(16)


def parse_digest(value: str) -> bytes:
    """``0x`` hex digest to 32 bytes."""
    return from_0x(value, what="digest")
