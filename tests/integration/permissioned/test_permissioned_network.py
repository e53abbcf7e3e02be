"""What makes a permissioned network different, checked on a live node: gas price 0 sent
explicitly, proof-of-authority blocks (extraData over 32 bytes) read through web3's PoA
middleware, confirmations 0, and GoQuorum Raft's nanosecond timestamps refused up front."""

from __future__ import annotations

import os

import pytest
from web3 import HTTPProvider, Web3

from bctrace.errors import ChainError, ChainMisconfigured
from bctrace_backends.permissioned.config import BesuConfig, QuorumConfig

pytestmark = pytest.mark.integration

QBFT_EXTRA_DATA = "0x" + "00" * 32 + "f8" + "ab" * 64
"""97 bytes, the size of a vanity + validator seal block header field on a PoA network."""


def test_defaults_are_free_gas_poa_and_zero_confirmations():
    for model in (BesuConfig, QuorumConfig):
        cfg = model(rpc_url="http://127.0.0.1:8545", chain_id=1337)
        assert (cfg.gas_price, cfg.effective_confirmations, cfg.effective_poa) == (0, 0, True)
        paid = model(rpc_url="http://127.0.0.1:8545", chain_id=1337, max_fee_per_gas="5 gwei")
        assert paid.gas_price is None and paid.max_fee_per_gas == 5 * 10**9
    with pytest.raises(ValueError, match="confirmations"):
        BesuConfig(rpc_url="http://x", chain_id=1337, confirmations=-1)
    with pytest.raises(ValueError, match="unknown preset"):
        BesuConfig(rpc_url="http://x", preset="mainnet")
    from bctrace_backends.evm.config import EvmConfig

    assert EvmConfig(rpc_url="http://x", preset="polygon").effective_poa  # Bor blocks carry seals too
    assert not EvmConfig(rpc_url="http://x", preset="mainnet").effective_poa
    assert not BesuConfig(rpc_url="http://x", chain_id=1337, poa=False).effective_poa


def test_anchor_is_a_legacy_transaction_with_gas_price_zero(permissioned_chain_factory, tmp_path):
    chain = permissioned_chain_factory("besu")
    backend = chain.backend(tmp_path)
    receipt = backend.anchor(os.urandom(32))
    tx = Web3(HTTPProvider(chain.node.url)).eth.get_transaction(receipt.tx)
    assert tx["type"] == 0 and tx["gasPrice"] == 0
    assert backend.confirmations(receipt) >= 1  # counted, though none are awaited
    est = backend.estimate_anchor_cost()
    assert est["total"] == "0 ETH" and est["gas"] > 21000
    backend.close()


def _poa_blocks(question: dict, answer: dict) -> None:
    """Every block's extraData rewritten to 97 bytes, the way blocks of a QBFT/IBFT/Clique
    network look (anvil cannot make such blocks itself)."""
    result = answer.get("result")
    if isinstance(result, dict) and "extraData" in result:
        result["extraData"] = QBFT_EXTRA_DATA


@pytest.fixture
def poa_proxy(rpc_proxy):
    return lambda upstream: rpc_proxy(upstream, _poa_blocks)


def test_poa_blocks_are_read_through_the_middleware(permissioned_chain_factory, poa_proxy, tmp_path):
    chain = permissioned_chain_factory("besu")
    url = poa_proxy(chain.node.url)
    assert len(Web3(HTTPProvider(url)).provider.make_request("eth_getBlockByNumber", ["latest", False])["result"]["extraData"]) == 2 + 2 * 97

    backend = chain.backend(tmp_path, rpc_url=url)  # reads the latest block before its first anchor
    root = os.urandom(32)
    receipt = backend.anchor(root)
    assert backend.lookup(root) == receipt
    # sealed headers do not hash to the block hash: no chain proof is stored, and that is said once
    assert receipt.chain_proof is None and len(backend.notes) == 1 and "no chain proof" in backend.notes[0]
    backend.anchor(os.urandom(32))
    assert len(backend.notes) == 1
    backend.close()

    plain = chain.backend(tmp_path, rpc_url=url, backend="evm", gas_price=None)  # EIP-1559 fees read the latest block
    with pytest.raises(ChainError, match=r"chain 'besu-1337'.*(extraData|proofOfAuthorityData|PoA|POA)"):
        plain.estimate_anchor_cost()
    plain.close()


def test_raft_nanosecond_timestamps_are_refused(permissioned_chain_factory, tmp_path):
    chain = permissioned_chain_factory("quorum")
    chain.node.rpc("evm_setNextBlockTimestamp", [hex(1_700_000_000_000_000_000)])
    chain.node.mine()
    backend = chain.backend(tmp_path)
    with pytest.raises(ChainMisconfigured, match=r"chain 'quorum-1337'.*nanosecond timestamps.*QBFT or IBFT"):
        backend.anchor(os.urandom(32))
    backend.close()
