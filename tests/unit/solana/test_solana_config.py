"""SolanaConfig: presets, secret references, and the receipt helpers (no node needed)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from solders.keypair import Keypair

from bctrace.api import AnchorReceipt
from bctrace_backends.solana.backend import chain_id_of, format_lamports, memo_text, signature_of
from bctrace_backends.solana.config import PRESETS, SolanaConfig


def test_preset_fills_rpc_genesis_and_explorer_links():
    config = SolanaConfig(preset="devnet")
    assert config.url == "https://api.devnet.solana.com" and config.genesis_hash == PRESETS["devnet"].genesis_hash
    assert config.tx_url("abc") == "https://explorer.solana.com/tx/abc?cluster=devnet"
    assert SolanaConfig(preset="mainnet-beta").tx_url("abc") == "https://explorer.solana.com/tx/abc"
    assert SolanaConfig(rpc_url="http://127.0.0.1:8899").tx_url("abc") is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "rpc_url is required"),
        ({"preset": "moonnet"}, "unknown preset 'moonnet'"),
        ({"preset": "devnet", "genesis_hash": PRESETS["testnet"].genesis_hash}, "contradicts preset 'devnet'"),
        ({"rpc_url": "http://x", "signer": "0xnot-base58"}, "base58"),
        ({"rpc_url": "http://x", "keys": "env:K"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_tables_are_refused_naming_the_field(table, message):
    with pytest.raises(ValidationError, match=message):
        SolanaConfig(**table)


def test_a_pasted_key_is_refused_and_never_in_the_error():
    secret = str(Keypair())
    with pytest.raises(ValidationError) as err:
        SolanaConfig(rpc_url="http://x", key=secret)
    assert 'must be a reference like "env:MY_KEY"' in str(err.value)
    assert secret not in str(err.value) and secret not in repr(err.value.errors())


def test_receipt_helpers():
    root = bytes(range(32))
    assert memo_text(root) == "bctrace:0x" + root.hex()
    assert chain_id_of(PRESETS["mainnet-beta"].genesis_hash) < 2**48  # exact in JavaScript
    assert len({chain_id_of(c.genesis_hash) for c in PRESETS.values()}) == 3
    assert format_lamports(5000) == "0.000005 SOL" and format_lamports(2 * 10**9) == "2 SOL"
    receipt = AnchorReceipt(chain="s", chain_id=1, backend="solana", tx="0x" + "11" * 32, block=1, timestamp=1)
    with pytest.raises(ValueError, match="64 bytes"):
        signature_of(receipt)  # a 32-byte hash is no signature
