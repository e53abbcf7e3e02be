"""Signed records: proof of authorship as an Ethereum address and a timestamp.

A signed record carries ``author`` (the signer's address) and ``signature``: an EIP-191
``personal_sign`` signature over the SHA-256 of the record's RFC 8785 bytes *without* the
``signature`` field. The signature is part of the record, so it is covered by the record's digest
and anchored with it: the anchor's block time bounds when the author had signed. Anyone can check
it with any Ethereum wallet library (``recover_message(encode_defunct(primitive=h), signature)``).

Keys are referenced (``key = "env:VAR"``, or an encrypted ``keystore`` with ``password``), read
only when signing, and never stored, logged or shown. eth-account comes with the ``evm`` extra.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator

from ..errors import ConfigError, SignatureInvalid, UsageError
from .record import canonical_bytes

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

SCHEME = "eip191-sha256-jcs"
"""personal_sign over sha256(RFC 8785 of the record without its signature)."""


class SignerConfig(BaseModel):
    """The ``[signer]`` table: whose key signs records (only when asked, or always)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str | None = None
    """``"env:VAR"``: a hex private key read from the environment when signing."""
    keystore: Path | None = None
    """An encrypted Web3 Secret Storage file, relative to the config file."""
    password: str | None = None
    """``"env:VAR"`` with the keystore's password; prompted for on a terminal when unset."""
    sign_all: bool = False
    """Sign every record, not only those recorded with ``sign=True`` / ``--sign``."""

    @field_validator("key", "password")
    @classmethod
    def _reference_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("env:"):
            raise ValueError('must reference an environment variable, "env:VAR" (secrets never go in the file)')
        return value


def unsigned_digest(record_json: dict[str, Any]) -> bytes:
    """What is signed: SHA-256 of the record's canonical bytes without ``signature``."""
    fields = {k: v for k, v in record_json.items() if k != "signature"}
    return hashlib.sha256(canonical_bytes(fields)).digest()


def load_signer(config: SignerConfig, where: str = "[signer]") -> LocalAccount:
    """The account that signs, from the environment or a keystore; errors never show secrets."""
    try:
        from eth_account import Account
    except ImportError as err:
        raise ConfigError(f"{where}: signing records needs eth-account: pip install 'bctrace[evm]'") from err
    if config.key:
        var = config.key.removeprefix("env:")
        raw = os.environ.get(var, "").strip()
        if not raw:
            raise ConfigError(f"{where}: the signing key is read from environment variable {var}, which is not set")
        try:
            return Account.from_key(raw)
        except (ValueError, TypeError):
            raise ConfigError(f"{where}: environment variable {var} does not hold a valid hex private key") from None
    if config.keystore:
        try:
            keyfile = json.loads(config.keystore.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(f"{where}: keystore {config.keystore} cannot be read ({type(err).__name__})") from None
        password = _password(config, where)
        try:
            return Account.from_key(Account.decrypt(keyfile, password))
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{where}: keystore {config.keystore} could not be decrypted (wrong password or damaged file)") from None
    raise ConfigError(f'{where}: no key: set key = "env:VAR" or keystore = "FILE" to sign records')


def _password(config: SignerConfig, where: str) -> str:
    if config.password:
        var = config.password.removeprefix("env:")
        value = os.environ.get(var)
        if value is None:
            raise ConfigError(f"{where}: the keystore password is read from environment variable {var}, which is not set")
        return value
    if not sys.stdin.isatty():
        raise ConfigError(f'{where}: keystore {config.keystore} needs a password: set password = "env:VAR"')
    import getpass

    return getpass.getpass(f"Password for keystore {config.keystore}: ")


def sign(account: LocalAccount, record_json: dict[str, Any]) -> str:
    """The ``signature`` field for a record whose ``author`` is the account's address."""
    from eth_account.messages import encode_defunct

    signed = account.sign_message(encode_defunct(primitive=unsigned_digest(record_json)))
    return "0x" + bytes(signed.signature).hex()


def check_signature(record_json: dict[str, Any], source: str = "record") -> str | None:
    """The verified signer's address of a signed record, or None for an unsigned one.

    Raises :class:`SignatureInvalid` when the signature does not recover to ``author``.
    """
    signature = record_json.get("signature")
    if signature is None:
        return None
    author = str(record_json.get("author") or "")
    try:
        from eth_account import Account
        from eth_account.messages import encode_defunct
    except ImportError as err:
        raise UsageError(f"{source}: the record is signed; checking it needs eth-account: pip install 'bctrace[evm]'") from err
    try:
        recovered = Account.recover_message(encode_defunct(primitive=unsigned_digest(record_json)), signature=signature)
    except Exception as err:  # malformed signatures raise assorted errors in eth-keys
        raise SignatureInvalid(f"{source}: the signature is malformed ({type(err).__name__})") from err
    if recovered.lower() != author.lower():
        raise SignatureInvalid(f"{source}: the signature is by {recovered}, not by the author {author or '(none)'}")
    return recovered
