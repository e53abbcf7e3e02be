"""Signed records: proof of authorship as an identity (an address, a key) and a timestamp.

A signed record carries ``author`` (the signer's identity) and ``signature`` over the SHA-256 of
the record's RFC 8785 bytes *without* the ``signature`` field. The signature is part of the
record, so it is covered by the record's digest and anchored with it: the anchor's block time
bounds when the author had signed.

Signing is a small protocol, :class:`Signer`: a scheme registered by a plugin through
``bctrace_register_signers`` (the EVM plugin registers ``eip191``, an Ethereum ``personal_sign``
that any Ethereum library checks). A record signed with another scheme names it in
``signature_scheme``; a record without that field was signed with ``eip191`` (the only scheme of
bctrace 0.1), so older bundles read the same. The ``[signer]`` table of the config picks the
scheme (``scheme = "eip191"`` by default) and is validated by the scheme's config model.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..errors import SignatureInvalid
from .record import canonical_bytes

DEFAULT_SCHEME = "eip191"
"""The scheme of records that do not name one (every signed record of bctrace 0.1)."""


class SignerConfig(BaseModel):
    """The ``[signer]`` table: which scheme signs records, and when. A scheme's own config model
    subclasses this with its fields (where the key is); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: str = DEFAULT_SCHEME
    sign_all: bool = False
    """Sign every record, not only those recorded with ``sign=True`` / ``--sign``."""


class Signer(ABC):
    """One signing identity of one scheme. Subclasses are registered by name (the scheme)."""

    scheme: ClassVar[str]
    """The scheme's registered name, written into records it signs (unless it is the default)."""
    config_model: ClassVar[type[SignerConfig]] = SignerConfig

    @classmethod
    @abstractmethod
    def from_config(cls, config: SignerConfig, where: str = "[signer]") -> Signer:
        """Load the key the config references; errors name ``where``, never a secret."""

    @property
    @abstractmethod
    def identity(self) -> str:
        """Who signs, as written into the record's ``author`` (an address, a key id)."""

    @abstractmethod
    def sign(self, message: bytes) -> str:
        """The signature of ``message`` (32 bytes: the record's unsigned digest), as text."""

    @classmethod
    @abstractmethod
    def check(cls, message: bytes, signature: str, author: str, source: str) -> str:
        """The identity that signed ``message``; raises :class:`SignatureInvalid` unless it is
        ``author``, and :class:`~bctrace.errors.UsageError` when this install cannot check the
        scheme."""


def unsigned_digest(record_json: dict[str, Any]) -> bytes:
    """What is signed: SHA-256 of the record's canonical bytes without ``signature``."""
    fields = {k: v for k, v in record_json.items() if k != "signature"}
    return hashlib.sha256(canonical_bytes(fields)).digest()


def scheme_fields(signer: Signer) -> dict[str, Any]:
    """Fields a record must carry *before* it is signed by ``signer`` (so they are signed too)."""
    return {} if signer.scheme == DEFAULT_SCHEME else {"signature_scheme": signer.scheme}


def sign(signer: Signer, record_json: dict[str, Any]) -> str:
    """The ``signature`` field of a record whose ``author`` is ``signer.identity``."""
    return signer.sign(unsigned_digest(record_json))


__all__ = ["DEFAULT_SCHEME", "SignatureInvalid", "Signer", "SignerConfig", "scheme_fields", "sign", "unsigned_digest"]
