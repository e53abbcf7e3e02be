"""Resolve the signing account of a chain, only when a transaction is about to be signed.

Why lazily: a config that is only used for verification needs no key, and the fewer places a
key is held, the fewer places it can leak. Error messages name the chain and the variable or
file, never the key or password.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

from bctrace.errors import ChainMisconfigured

from .config import EvmConfig

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


def _env(chain: str, ref: str, what: str) -> str:
    var = ref.removeprefix("env:")
    value = os.environ.get(var)
    if not value:
        raise ChainMisconfigured(chain, f"{what} is read from environment variable {var}, which is not set")
    return value.strip()


def load_account(chain: str, config: EvmConfig) -> LocalAccount:
    """The account that signs this chain's transactions (``key`` or ``keystore``)."""
    from eth_account import Account

    if config.key:
        raw = _env(chain, config.key, "the signing key")
        try:
            return Account.from_key(raw)
        except (ValueError, TypeError):
            var = config.key.removeprefix("env:")
            raise ChainMisconfigured(chain, f"environment variable {var} does not hold a valid hex private key") from None
    if config.keystore:
        path = config.keystore
        try:
            keyfile = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ChainMisconfigured(chain, f"keystore {path} does not exist") from None
        except (OSError, ValueError) as err:
            raise ChainMisconfigured(chain, f"keystore {path} is not a readable JSON keystore ({type(err).__name__})") from None
        password = _env(chain, config.password, "the keystore password") if config.password else _prompt(chain, path)
        try:
            key = Account.decrypt(keyfile, password)
        except (ValueError, KeyError, TypeError):
            raise ChainMisconfigured(chain, f"keystore {path} could not be decrypted (wrong password or damaged file)") from None
        return Account.from_key(key)
    raise ChainMisconfigured(chain, "no signer configured: set key = \"env:VAR\" or keystore = \"FILE\" to anchor")


def _prompt(chain: str, path: object) -> str:
    if not sys.stdin.isatty():
        raise ChainMisconfigured(chain, f"keystore {path} needs a password: set password = \"env:VAR\" (no terminal to prompt on)")
    import getpass

    return getpass.getpass(f"Password for keystore {path} (chain {chain}): ")
