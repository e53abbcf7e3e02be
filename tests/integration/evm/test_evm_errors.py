"""Each way an EVM anchor can fail gives a one-line error naming the chain, the documented exit
code, and leaves the records in the outbox; the next flush (after the cause is fixed) anchors them."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bctrace import Tracer
from bctrace.errors import (
    EXIT_CHAIN,
    EXIT_USAGE,
    AnchorFailed,
    ChainError,
    ChainMisconfigured,
    ChainUnreachable,
    NotPermitted,
    UsageError,
)

pytestmark = pytest.mark.integration


def _tracer(write_config, tmp_path: Path, name: str, table: dict) -> Tracer:
    return Tracer.from_config(write_config({name: table}, path=tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.toml"))


def _fail_then_recover(write_config, tmp_path: Path, name: str, bad: dict, good: dict, expected: type[ChainError], exit_code: int,
                       words: tuple[str, ...], fix=None) -> ChainError:
    """Record 3 steps, flush with ``bad`` config (must raise ``expected``), then flush with ``good``."""
    with _tracer(write_config, tmp_path, name, bad) as tracer:
        recs = [tracer.record("step", {"i": i}) for i in range(3)]
        with pytest.raises(expected) as info:
            tracer.flush()
        err = info.value
        message = str(err)
        assert type(err) is expected, f"{type(err).__name__}: {message}"
        assert err.exit_code == exit_code
        assert "\n" not in message and message.startswith(f"chain {name!r}: ")
        for word in words:
            assert word in message, message
        # the records stay queued: an open batch, no bundle yet
        assert len(tracer.outbox.open_batches()) == 1
        with pytest.raises(UsageError, match="not anchored yet"):
            tracer.bundle(recs[0].digest)
    if fix is not None:
        fix()
    with _tracer(write_config, tmp_path, name, good) as tracer:
        result = tracer.flush()
        assert result.records == 3
        assert not tracer.outbox.open_batches() and tracer.outbox.pending_count() == 0
        for rec in recs:
            assert tracer.verify(tracer.bundle(rec.digest)).ok
    return err


def test_wrong_chain_id_sends_nothing(evm_chain, write_config, tmp_path):
    before = evm_chain.node.rpc("eth_getTransactionCount", [evm_chain.signer.address, "latest"])
    _fail_then_recover(
        write_config, tmp_path, "net", evm_chain.table(chain_id=5), evm_chain.table(),
        ChainMisconfigured, EXIT_USAGE, ("serves chain id 31337", "config says 5", "nothing was sent"),
    )
    after = evm_chain.node.rpc("eth_getTransactionCount", [evm_chain.signer.address, "latest"])
    assert int(after, 16) == int(before, 16) + 1  # only the recovery's anchor


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_rpc(evm_chain, write_config, tmp_path):
    err = _fail_then_recover(
        write_config, tmp_path, "down", evm_chain.table(rpc_url=f"http://127.0.0.1:{_free_port()}/secret-api-key"),
        evm_chain.table(), ChainUnreachable, EXIT_CHAIN, ("did not answer",),
    )
    assert "secret-api-key" not in str(err)  # RPC URLs are shown redacted


def test_no_contract_at_address(evm_chain, write_config, tmp_path):
    empty = "0x" + "11" * 20
    _fail_then_recover(
        write_config, tmp_path, "nocode", evm_chain.table(contract=empty), evm_chain.table(),
        ChainMisconfigured, EXIT_USAGE, ("no contract at", empty),
    )


def test_contract_that_is_not_a_registry(evm_chain, write_config, tmp_path):
    other = "0x" + "22" * 20
    evm_chain.node.rpc("anvil_setCode", [other, "0x6001600055"])
    _fail_then_recover(
        write_config, tmp_path, "wrongcode", evm_chain.table(contract=other), evm_chain.table(),
        ChainMisconfigured, EXIT_USAGE, ("not a bctrace TraceRegistry",),
    )


def test_insufficient_funds(evm_chain, write_config, tmp_path, monkeypatch):
    from eth_account import Account

    poor = Account.create()
    monkeypatch.setenv("BCTRACE_POOR_KEY", poor.key.to_0x_hex())
    table = evm_chain.table(key="env:BCTRACE_POOR_KEY")
    err = _fail_then_recover(
        write_config, tmp_path, "poor", table, table, AnchorFailed, EXIT_CHAIN, ("insufficient funds", poor.address),
        fix=lambda: evm_chain.node.fund(poor.address),
    )
    assert poor.key.hex() not in str(err)


def test_reverted_transaction(evm_chain, write_config, tmp_path):
    # A fixed gas limit above the intrinsic cost but below what anchor() needs: mined, reverted.
    _fail_then_recover(
        write_config, tmp_path, "oog", evm_chain.table(gas_limit=30_000), evm_chain.table(),
        AnchorFailed, EXIT_CHAIN, ("reverted in block",),
    )


def test_receipt_timeout_then_mined_later(anvil_factory, evm_chain_factory, write_config, tmp_path, signer):
    chain = evm_chain_factory(31337)
    chain.node.set_automine(False)  # transactions wait in the pool
    sent_before = int(chain.node.rpc("eth_getTransactionCount", [signer.address, "pending"]), 16)

    def retry_while_stuck_then_mine() -> None:
        with _tracer(write_config, tmp_path, "slow", chain.table(timeout=0.5)) as tracer:
            with pytest.raises(AnchorFailed, match="no receipt"):
                tracer.flush()
        # the retry re-sent the same transaction (same nonce) instead of queueing a second one
        assert int(chain.node.rpc("eth_getTransactionCount", [signer.address, "pending"]), 16) == sent_before + 1
        chain.node.mine(1)

    _fail_then_recover(
        write_config, tmp_path, "slow", chain.table(timeout=0.5), chain.table(),
        AnchorFailed, EXIT_CHAIN, ("no receipt", "after 0.5 s"), fix=retry_while_stuck_then_mine,
    )
    # the recovering flush found the first transaction mined instead of sending another
    assert int(chain.node.rpc("eth_getTransactionCount", [signer.address, "pending"]), 16) == sent_before + 1


def test_writer_not_on_allowlist(evm_chain_factory, write_config, tmp_path, monkeypatch):
    from eth_account import Account

    from bctrace_backends.evm import artifact
    from bctrace_backends.evm.client import EvmClient

    chain = evm_chain_factory(31337, restricted=True)
    outsider = Account.create()
    chain.node.fund(outsider.address)
    monkeypatch.setenv("BCTRACE_OUTSIDER_KEY", outsider.key.to_0x_hex())
    table = chain.table(key="env:BCTRACE_OUTSIDER_KEY")

    def allow() -> None:  # the owner (the deployer) puts the outsider on the allowlist
        client = EvmClient("owner", chain.config())
        registry = client.w3.eth.contract(address=chain.contract, abi=artifact.abi())
        client.transact(bytes.fromhex(registry.encode_abi("allow", args=[outsider.address])[2:]), to=chain.contract, what="allow")
        client.close()

    _fail_then_recover(
        write_config, tmp_path, "closed", table, table, NotPermitted, EXIT_CHAIN, ("not allowed", outsider.address), fix=allow,
    )


def test_missing_signer_is_a_config_error(evm_chain, write_config, tmp_path, monkeypatch):
    monkeypatch.delenv(evm_chain.signer.env)
    _fail_then_recover(
        write_config, tmp_path, "nokey", evm_chain.table(), evm_chain.table(key="env:BCTRACE_NOT_SET_EITHER"),
        ChainMisconfigured, EXIT_USAGE, (evm_chain.signer.env, "not set"),
        fix=lambda: monkeypatch.setenv("BCTRACE_NOT_SET_EITHER", evm_chain.signer.key),
    )
