"""One address per trace: each trace's anchors are sent from an account derived from one HD seed.

Why: anyone can then follow a trace on a block explorer by its address (every anchor of the
trace is a transaction from it, and the registry stores the sender of each root), without
learning anything about other traces. The seed is a BIP-39 mnemonic read from the environment
(``trace_seed = "env:VAR"`` in the chain's table); accounts are BIP-32/44 keys derived from it
with eth-account's HD wallet features, on the path :func:`trace_path` computes from the trace id,
so the producer can always derive a trace's address again and nobody else can.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from bctrace.api import ChainMisconfigured

from .config import EvmConfig
from .signer import _env

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

HARDENED_LIMIT = 2**31


def trace_path(trace: str) -> str:
    """The BIP-44 path of a trace's account: ``m/44'/60'/A'/0/I`` with A and I the first two
    31-bit numbers of SHA-256 of the trace id (62 bits: a collision needs ~2**31 traces)."""
    digest = hashlib.sha256(b"bctrace-trace-account:" + trace.encode("utf-8")).digest()
    account = int.from_bytes(digest[:4], "big") % HARDENED_LIMIT
    index = int.from_bytes(digest[4:8], "big") % HARDENED_LIMIT
    return f"m/44'/60'/{account}'/0/{index}"


def trace_account(chain: str, config: EvmConfig, trace: str) -> LocalAccount:
    """The account that sends ``trace``'s anchors on this chain; errors name the variable, never
    the mnemonic."""
    if not config.trace_seed:
        raise ChainMisconfigured(chain, "no trace_seed configured: set trace_seed = \"env:VAR\" (a BIP-39 mnemonic) for one address per trace")
    from eth_account import Account
    from eth_utils.exceptions import ValidationError

    mnemonic = _env(chain, config.trace_seed, "the trace seed")
    Account.enable_unaudited_hdwallet_features()
    try:
        return Account.from_mnemonic(mnemonic, account_path=trace_path(trace))
    except (ValueError, TypeError, ValidationError):  # never chained: the message quotes the words
        var = config.trace_seed.removeprefix("env:")
        raise ChainMisconfigured(chain, f"environment variable {var} does not hold a valid BIP-39 mnemonic") from None
