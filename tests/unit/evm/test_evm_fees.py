"""Fee selection (our logic only; the node is a stand-in object with the three values it reports)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bctrace.errors import AnchorFailed
from bctrace_backends.evm.client import EvmClient
from bctrace_backends.evm.config import EvmConfig

GWEI = 10**9


def _node(base: int | None, tip: int = 2 * GWEI, price: int = 20 * GWEI):
    block = {} if base is None else {"baseFeePerGas": base}
    return SimpleNamespace(eth=SimpleNamespace(get_block=lambda _: block, max_priority_fee=tip, gas_price=price))


def _fees(node, **cfg):
    return EvmClient("c", EvmConfig(rpc_url="http://x", chain_id=1, **cfg))._fees(node)


def test_eip1559_uses_twice_base_plus_tip_under_the_cap():
    assert _fees(_node(10 * GWEI)) == {"maxFeePerGas": 22 * GWEI, "maxPriorityFeePerGas": 2 * GWEI}
    assert _fees(_node(10 * GWEI), max_fee_per_gas="15 gwei") == {"maxFeePerGas": 15 * GWEI, "maxPriorityFeePerGas": 2 * GWEI}
    assert _fees(_node(10 * GWEI), priority_fee_per_gas="1 gwei")["maxPriorityFeePerGas"] == GWEI


def test_fee_spike_above_cap_fails_instead_of_paying():
    with pytest.raises(AnchorFailed, match="above the cap"):
        _fees(_node(300 * GWEI), preset="mainnet")  # mainnet cap 200 gwei


def test_legacy_gas_price_including_zero():
    assert _fees(_node(10 * GWEI), gas_price=0) == {"gasPrice": 0}
    assert _fees(_node(None)) == {"gasPrice": 20 * GWEI}
    with pytest.raises(AnchorFailed, match="above the cap"):
        _fees(_node(None, price=2000 * GWEI))
