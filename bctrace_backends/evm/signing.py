"""``eip191``: records signed by an Ethereum key, EIP-191 ``personal_sign`` over the record's
unsigned digest. Anyone checks it with any Ethereum library
(``recover_message(encode_defunct(primitive=h), signature)``).

Keys are referenced (``key = "env:VAR"``, or an encrypted ``keystore`` with ``password``), read
only when signing, and never stored, logged or shown. eth-account comes with the ``evm`` extra;
this module imports it only when it signs or checks, so a config naming the scheme loads
without it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationInfo, field_validator

from bctrace.api import ConfigError, SignatureInvalid, Signer, SignerConfig, UsageError, path_from_config

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


class Eip191Config(SignerConfig):
    """The ``[signer]`` table for ``scheme = "eip191"`` (the default)."""

    key: str | None = None
    """``"env:VAR"``: a hex private key read from the environment when signing."""
    keystore: Path | None = None
    """An encrypted Web3 Secret Storage file, relative to the config file."""
    password: str | None = None
    """``"env:VAR"`` with the keystore's password; prompted for on a terminal when unset."""

    @field_validator("key", "password")
    @classmethod
    def _reference_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("env:"):
            raise ValueError('must reference an environment variable, "env:VAR" (secrets never go in the file)')
        return value

    @field_validator("keystore")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return path_from_config(value, info)


class Eip191Signer(Signer):
    scheme = "eip191"
    config_model = Eip191Config

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    def __repr__(self) -> str:
        return f"<Eip191Signer {self.identity}>"  # never the key

    @property
    def identity(self) -> str:
        return str(self._account.address)

    def sign(self, message: bytes) -> str:
        from eth_account.messages import encode_defunct

        signed = self._account.sign_message(encode_defunct(primitive=message))
        return "0x" + bytes(signed.signature).hex()

    @classmethod
    def check(cls, message: bytes, signature: str, author: str, source: str) -> str:
        try:
            from eth_account import Account
            from eth_account.messages import encode_defunct
        except ImportError as err:
            raise UsageError(f"{source}: the record is signed; checking it needs eth-account: pip install 'bctrace[evm]'") from err
        try:
            recovered = str(Account.recover_message(encode_defunct(primitive=message), signature=signature))
        except Exception as err:  # malformed signatures raise assorted errors in eth-keys
            raise SignatureInvalid(f"{source}: the signature is malformed ({type(err).__name__})") from err
        if recovered.lower() != author.lower():
            raise SignatureInvalid(f"{source}: the signature is by {recovered}, not by the author {author or '(none)'}")
        return recovered

    @classmethod
    def from_config(cls, config: SignerConfig, where: str = "[signer]") -> Eip191Signer:
        """The account that signs, from the environment or a keystore; errors never show secrets."""
        assert isinstance(config, Eip191Config)
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
                return cls(Account.from_key(raw))
            except (ValueError, TypeError):
                raise ConfigError(f"{where}: environment variable {var} does not hold a valid hex private key") from None
        if config.keystore:
            try:
                keyfile: Any = json.loads(config.keystore.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise ConfigError(f"{where}: keystore {config.keystore} cannot be read ({type(err).__name__})") from None
            password = _password(config, where)
            try:
                return cls(Account.from_key(Account.decrypt(keyfile, password)))
            except (ValueError, KeyError, TypeError):
                raise ConfigError(f"{where}: keystore {config.keystore} could not be decrypted (wrong password or damaged file)") from None
        raise ConfigError(f'{where}: no key: set key = "env:VAR" or keystore = "FILE" to sign records')


def _password(config: Eip191Config, where: str) -> str:
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
