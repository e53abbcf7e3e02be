"""Regression tests of issue 9: bundles that say false things about their anchor fail, with a
config and with --rpc (back-dated timestamp, another contract, another chain id)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def stamped(evm_chain_factory, write_config, project, cli):
    chain = evm_chain_factory(1, name="eth")
    config = write_config({"eth": chain.table()}, path=project / "bctrace.toml")
    (project / "paper.txt").write_text("my idea, first\n")
    assert cli("--config", config, "stamp", "paper.txt").exit_code == 0
    path = project / "paper.txt.bctrace.json"
    return chain, config, path, json.loads(path.read_text())


def edited(path, data, **anchor):
    data = json.loads(json.dumps(data))
    data["anchors"][0].update(anchor)
    path.write_text(json.dumps(data, indent=2))
    return path


def both_ways(cli, config, chain, path):
    """Verify with the config, and with --rpc and no config."""
    return (cli("--config", config, "verify", path), cli("verify", path, "--rpc", f"1={chain.node.url}"))


def test_backdated_timestamp_fails_and_show_calls_it_a_claim(stamped, cli, tmp_path):
    chain, config, path, data = stamped
    ts = data["anchors"][0]["timestamp"] - 86400
    target = edited(tmp_path / "backdated.bctrace.json", data, timestamp=ts)
    for result in both_ways(cli, config, chain, target):
        assert result.exit_code == 1 and "timestamp" in result.output, result.output
    shown = cli("show", target)
    assert "CLAIMS, not checked" in shown.output


def test_contract_edits_fail(stamped, cli, tmp_path, evm_chain_factory, project):
    chain, config, path, data = stamped
    contract = data["anchors"][0]["contract"]
    one_digit = contract[:-1] + ("0" if contract[-1] != "0" else "1")
    from web3 import Web3

    for wrong in (Web3.to_checksum_address(one_digit.lower()), data["anchors"][0]["block_hash"]):
        target = edited(tmp_path / "contract.bctrace.json", data, contract=wrong)
        for result in both_ways(cli, config, chain, target):
            assert result.exit_code == 1 and "contract" in result.output, result.output


def test_another_registry_holding_the_same_root_is_not_the_claimed_one(stamped, cli, tmp_path):
    chain, config, path, data = stamped
    from bctrace_backends.evm.client import EvmClient
    from bctrace_backends.evm.deploy import deploy_registry

    client = EvmClient("eth", chain.config())
    try:
        second = deploy_registry(client, restricted=False).address
    finally:
        client.close()
    chain.send(second, "anchor(bytes32)", [bytes.fromhex(data["merkle"]["root"][2:])])
    target = edited(tmp_path / "other-registry.bctrace.json", data, contract=second)
    for result in both_ways(cli, config, chain, target):
        assert result.exit_code == 1, result.output
        assert any(word in result.output for word in ("block", "tx", "timestamp")), result.output


def test_wrong_chain_id_with_rpc_is_a_failed_check_not_a_usage_error(stamped, cli, tmp_path):
    chain, config, path, data = stamped
    target = edited(tmp_path / "chain.bctrace.json", data, chain_id=5)
    named_by_bundle = cli("verify", target, "--rpc", f"5={chain.node.url}")
    assert named_by_bundle.exit_code == 1 and "chain_id" in named_by_bundle.output, named_by_bundle.output
    named_by_verifier = cli("verify", target, "--rpc", f"1={chain.node.url}")
    assert named_by_verifier.exit_code == 1 and "chain_id" in named_by_verifier.output
    with_config = cli("--config", config, "verify", target)
    assert with_config.exit_code == 1 and "chain_id" in with_config.output


def test_contract_without_code_with_rpc_is_exit_1(stamped, cli, tmp_path):
    chain, config, path, data = stamped
    target = edited(tmp_path / "nocode.bctrace.json", data, contract="0x000000000000000000000000000000000000dEaD")
    result = cli("verify", target, "--rpc", f"1={chain.node.url}")
    assert result.exit_code == 1 and "contract" in result.output and "no contract" in result.output, result.output
