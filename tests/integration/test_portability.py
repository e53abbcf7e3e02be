"""Cross-ledger portability: one record, one bundle, anchored in one flush on three chains of
three kinds (an L1-like chain, an OP-stack rollup with its fee oracle, a permissioned free-gas
network with a restricted registry), verified on all three with `--policy all`."""

from __future__ import annotations

import json

import pytest

from bctrace._internal.bundle import ProofBundle

pytestmark = pytest.mark.integration


def test_one_bundle_verifies_on_an_l1_an_op_stack_rollup_and_a_permissioned_chain(
    evm_chain_factory, op_chain_factory, permissioned_chain_factory, write_config, project, cli
):
    l1 = evm_chain_factory(1, name="l1")
    rollup = op_chain_factory(10, name="rollup")
    private = permissioned_chain_factory("besu", name="private")
    config = write_config({c.name: c.table() for c in (l1, rollup, private)}, path=project / "bctrace.toml")
    (project / "model.bin").write_bytes(b"\x00weights\x01" * 1000)

    stamped = cli("--config", config, "stamp", "model.bin", "--json")
    assert stamped.exit_code == 0, stamped.output + stamped.stderr
    assert len(json.loads(stamped.output)["flush"]) == 1  # one batch, one flush

    bundle = ProofBundle.read(project / "model.bin.bctrace.json")
    kinds = {(a.chain, a.chain_id, a.backend) for a in bundle.anchors}
    assert kinds == {("l1", 1, "evm"), ("rollup", 10, "optimism"), ("private", 1337, "besu")}

    verified = cli("--config", config, "verify", "model.bin", "--policy", "all", "--json")
    assert verified.exit_code == 0, verified.output + verified.stderr
    statuses = {c["chain"]: c["status"] for c in json.loads(verified.output)["results"][0]["chains"]}
    assert statuses == {"l1": "verified", "rollup": "verified", "private": "verified"}

    private.node.stop()  # one ledger gone: `all` no longer holds, two of three still do
    assert cli("--config", config, "verify", "model.bin", "--policy", "all").exit_code != 0
    assert cli("--config", config, "verify", "model.bin", "--policy", "2").exit_code == 0
