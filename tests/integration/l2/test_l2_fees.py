"""Rollup fee models against real contracts on a local node: the OP-stack GasPriceOracle and
Arbitrum NodeInterface stand-ins (contracts/test) sit at their real addresses on anvil chains
with chain ids 10 / 8453 / 534352 / 42161, and the backends' estimates are checked against what
those contracts and the node answer, and against the documented formulas computed here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import rlp
from eth_account import Account
from web3 import HTTPProvider, Web3

from bctrace.errors import ChainMisconfigured
from bctrace_backends.l2.txbytes import unsigned_tx_bytes

pytestmark = pytest.mark.integration

SCROLL_ORACLE = "0x5300000000000000000000000000000000000002"
OP_ORACLE = "0x420000000000000000000000000000000000000F"


def _calldata_gas(data: bytes) -> int:
    return sum(4 if b == 0 else 16 for b in data)


def ecotone_fee(tx: bytes, p: dict[str, int]) -> int:
    """OP specs, Ecotone: (calldata gas + 68×16) × (16·baseFeeScalar·l1BaseFee + blobBaseFeeScalar·blobBaseFee) / 16e6."""
    l1_gas = _calldata_gas(tx) + 68 * 16
    return l1_gas * (16 * p["base_fee_scalar"] * p["l1_base_fee"] + p["blob_base_fee_scalar"] * p["blob_base_fee"]) // (16 * 10**6)


def bedrock_fee(tx: bytes, p: dict[str, int]) -> int:
    """OP specs, Bedrock: (calldata gas + 68×16 + overhead) × l1BaseFee × scalar / 1e6."""
    return (_calldata_gas(tx) + 68 * 16 + p["overhead"]) * p["l1_base_fee"] * p["scalar"] // 10**6


def _w3(chain) -> Web3:
    return Web3(HTTPProvider(chain.node.url))


def _oracle(w3: Web3, stand_ins, address: str = OP_ORACLE):
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=stand_ins.artifact("GasPriceOracleStandIn")["abi"])


def _expected_price(w3: Web3) -> int:
    return w3.eth.get_block("latest")["baseFeePerGas"] + w3.eth.max_priority_fee


@pytest.mark.parametrize("ecotone", [True, False], ids=["ecotone", "bedrock"])
def test_op_estimate_is_l2_gas_times_price_plus_the_oracles_l1_fee(op_chain_factory, tmp_path, ecotone, stand_ins):
    chain = op_chain_factory(10, ecotone=ecotone)
    backend = chain.backend(tmp_path)
    w3 = _w3(chain)
    root = os.urandom(32)
    fee = backend.anchor_fee(root)
    quote = backend.quote_anchor(root)
    raw = unsigned_tx_bytes(quote.tx)

    anchor_call = backend.registry().encode_abi("anchor", args=[root])
    assert fee.gas == w3.eth.estimate_gas({"from": chain.signer.address, "to": backend.registry().address, "data": anchor_call})
    assert fee.gas_price == _expected_price(w3)
    oracle_fee = _oracle(w3, stand_ins).functions.getL1Fee(raw).call()
    formula = ecotone_fee(raw, stand_ins.OP_ECOTONE_PARAMS) if ecotone else bedrock_fee(raw, stand_ins.OP_BEDROCK_PARAMS)
    assert fee.l1_data_fee == oracle_fee == formula > 0
    assert fee.total == fee.gas * fee.gas_price + oracle_fee
    assert fee.details == {"l1_fee_formula": "ecotone" if ecotone else "bedrock"}
    backend.close()


def test_op_estimate_includes_the_isthmus_operator_fee(op_chain_factory, tmp_path):
    chain = op_chain_factory(8453)
    chain.send(OP_ORACLE, "setOperatorFee(bool,uint32,uint64)", [True, 2_000_000, 10**12])
    backend = chain.backend(tmp_path)
    fee = backend.anchor_fee()
    assert fee.operator_fee == fee.gas * 2_000_000 // 10**6 + 10**12
    assert fee.total == fee.execution_fee + fee.l1_data_fee + fee.operator_fee
    assert "operator_fee" in fee.display()
    backend.close()


def test_unsigned_tx_bytes_are_the_signed_transaction_without_its_signature():
    """Checked against eth-account's own signed serialization: strip v, r, s and re-encode."""
    account = Account.create()
    base = {"chainId": 10, "nonce": 7, "gas": 50_000, "to": Web3.to_checksum_address("0x" + "ab" * 20), "value": 0, "data": os.urandom(36)}
    for fees, prefix in (({"maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9}, b"\x02"), ({"gasPrice": 0}, b"")):
        tx = {**base, **fees}
        signed = bytes(account.sign_transaction(tx).raw_transaction)
        body = rlp.decode(signed[len(prefix):])
        if prefix:
            expected = prefix + rlp.encode(body[:-3])
        else:  # legacy EIP-155: the signing form ends with chainId, 0, 0 in place of v, r, s
            expected = rlp.encode(body[:-3] + [10, b"", b""])
        assert unsigned_tx_bytes(tx) == expected


def test_actual_anchor_gas_matches_the_estimate(op_chain_factory, tmp_path):
    chain = op_chain_factory(10)
    backend = chain.backend(tmp_path)
    root = os.urandom(32)
    fee = backend.anchor_fee(root)
    receipt = backend.anchor(root)
    tx_receipt = _w3(chain).eth.get_transaction_receipt(receipt.tx)
    assert tx_receipt["gasUsed"] == fee.gas
    backend.close()


def test_op_chain_without_the_oracle_is_a_clear_config_error(evm_chain_factory, tmp_path):
    chain = evm_chain_factory(10)
    backend = chain.backend(tmp_path, backend="optimism")
    with pytest.raises(ChainMisconfigured, match=r"chain 'anvil-10'.*no fee oracle at 0x4200.*OP-stack"):
        backend.estimate_anchor_cost()
    backend.close()


def test_scroll_uses_its_own_oracle_address(op_chain_factory, tmp_path, stand_ins):
    chain = op_chain_factory(534352, oracle=SCROLL_ORACLE, backend="scroll")
    backend = chain.backend(tmp_path, preset="scroll", chain_id=None)
    root = os.urandom(32)
    fee = backend.anchor_fee(root)
    raw = unsigned_tx_bytes(backend.quote_anchor(root).tx)
    assert fee.l1_data_fee == _oracle(_w3(chain), stand_ins, SCROLL_ORACLE).functions.getL1Fee(raw).call() > 0
    backend.close()


def test_arbitrum_estimate_splits_the_node_interface_components(arbitrum_chain_factory, tmp_path, stand_ins):
    chain = arbitrum_chain_factory(42161)
    backend = chain.backend(tmp_path, preset="arbitrum-one", chain_id=None)
    w3 = _w3(chain)
    root = os.urandom(32)
    fee = backend.anchor_fee(root)
    data = bytes.fromhex(backend.registry().encode_abi("anchor", args=[root])[2:])
    node_interface = w3.eth.contract(address=Web3.to_checksum_address(stand_ins.ARB_NODE_INTERFACE),
                                     abi=stand_ins.artifact("NodeInterfaceStandIn")["abi"])
    total, for_l1, base_fee, l1_base = node_interface.functions.gasEstimateComponents(
        backend.registry().address, False, data).call({"from": chain.signer.address})
    assert l1_base == stand_ins.ARB_L1_BASE_FEE
    assert for_l1 == (len(data) + 140) * 16 * stand_ins.ARB_L1_BASE_FEE // base_fee > 0  # the stand-in's formula
    assert (fee.gas, fee.gas_price, fee.l1_data_fee) == (total - for_l1, base_fee, for_l1 * base_fee)
    assert fee.total == total * base_fee
    assert fee.details["l1_gas"] == for_l1
    backend.close()


def test_chains_estimate_shows_l2_execution_l1_data_and_total(op_chain_factory, arbitrum_chain_factory, write_config, project, cli):
    op, arb = op_chain_factory(10), arbitrum_chain_factory(42161)
    config = write_config({"op": op.table(), "arb": arb.table()}, path=project / "bctrace.toml")
    result = cli("--config", config, "chains", "--estimate", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["chain"]: r for r in json.loads(result.output)["chains"]}
    for name in ("op", "arb"):
        est = rows[name]["estimate"]
        assert {"gas", "gas_price", "l2_execution_fee", "l1_data_fee", "total"} <= set(est), est
        assert est["total"].endswith(" ETH") and est["l1_data_fee"] != "0 ETH"
    assert rows["op"]["finality"].startswith("L2 inclusion")
    text = cli("--config", config, "chains", "--estimate")
    assert text.exit_code == 0 and "l1_data_fee" in text.output and "total" in text.output


def test_l2_presets_fill_chain_ids():
    from bctrace_backends.l2.config import ArbitrumConfig, OptimismConfig, ScrollConfig

    assert OptimismConfig(rpc_url="https://x", preset="base").chain_id == 8453
    assert OptimismConfig(rpc_url="https://x", preset="optimism").chain_id == 10
    assert OptimismConfig(rpc_url="https://x", chain_id=7777777).chain_id == 7777777  # any OP-stack chain
    assert ArbitrumConfig(rpc_url="https://x", preset="arbitrum-nova").chain_id == 42170
    assert ScrollConfig(rpc_url="https://x", preset="scroll").chain_id == 534352
    with pytest.raises(ValueError, match="unknown preset 'base'.*arbitrum-one"):
        ArbitrumConfig(rpc_url="https://x", preset="base")
