"""One address per trace, the parts that need no node: the derivation path, the account, the
config's secret reference, and the outbox's batches of one trace."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from bctrace.errors import ChainMisconfigured
from bctrace_backends.evm.config import EvmConfig
from bctrace_backends.evm.trace_accounts import trace_account, trace_path

MNEMONIC = "test test test test test test test test test test test junk"


def config(**extra: str) -> EvmConfig:
    return EvmConfig(rpc_url="http://127.0.0.1:1", chain_id=31337, key="env:K", **extra)


def test_the_path_is_bip44_and_fixed_by_the_trace_id() -> None:
    path = trace_path("donation-1")
    digest = hashlib.sha256(b"bctrace-trace-account:donation-1").digest()
    assert path == f"m/44'/60'/{int.from_bytes(digest[:4], 'big') % 2**31}'/0/{int.from_bytes(digest[4:8], 'big') % 2**31}"
    assert trace_path("donation-1") == path != trace_path("donation-2")


def test_each_trace_has_its_own_account_from_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    from eth_account import Account

    monkeypatch.setenv("SEED", MNEMONIC)
    cfg = config(trace_seed="env:SEED")
    a, b = trace_account("c", cfg, "t1"), trace_account("c", cfg, "t2")
    assert a.address != b.address and trace_account("c", cfg, "t1").address == a.address
    Account.enable_unaudited_hdwallet_features()
    assert Account.from_mnemonic(MNEMONIC, account_path=trace_path("t1")).address == a.address  # any BIP-32 wallet agrees


def test_a_bad_or_missing_seed_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(trace_seed="env:SEED")
    with pytest.raises(ChainMisconfigured, match="SEED, which is not set"):
        trace_account("c", cfg, "t")
    monkeypatch.setenv("SEED", "not a mnemonic at all")
    with pytest.raises(ChainMisconfigured, match="SEED does not hold a valid BIP-39 mnemonic") as err:
        trace_account("c", cfg, "t")
    assert "mnemonic at all" not in str(err.value)


def test_a_pasted_mnemonic_is_refused_and_never_shown() -> None:
    with pytest.raises(ValidationError) as err:
        config(trace_seed=MNEMONIC)
    assert "trace_seed" in str(err.value) and "junk" not in str(err.value)
