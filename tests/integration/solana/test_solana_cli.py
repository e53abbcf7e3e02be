"""`bctrace stamp` and `bctrace verify` with a Solana chain, through JSON-RPC into LiteSVM; and the
ways a Solana anchor claim can be wrong, each failing with a reason that names it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from solders.keypair import Keypair

pytestmark = pytest.mark.integration


@pytest.fixture
def stamped(solana_chain, write_config, project, cli):
    config = write_config({"solana-local": solana_chain.table()}, default_chains=["solana-local"], path=project / "bctrace.toml")
    (project / "a.txt").write_text("anchored on solana\n")
    result = cli("--config", config, "stamp", "a.txt")
    assert result.exit_code == 0, result.output + result.stderr
    bundle_path = next(project.glob("a.txt*.bctrace.json"))
    return config, bundle_path


def _verify(cli, config: Path, *args: str):
    result = cli("--config", config, "verify", *args, "--json")
    return result, json.loads(result.output)["results"][0]["chains"][0] if result.output.strip().startswith("{") else None


def test_stamp_anchors_a_memo_and_verify_finds_it(solana_chain, stamped, cli):
    config, bundle_path = stamped
    bundle = json.loads(bundle_path.read_text())
    [anchor] = bundle["anchors"]
    assert anchor["backend"] == "solana" and anchor["signer"] == solana_chain.signer
    landed = solana_chain.node.landed[anchor["signature"]]
    assert landed.memo.endswith(f"bctrace:{bundle['merkle']['root']}")
    result, check = _verify(cli, config, "a.txt")
    assert result.exit_code == 0, result.output + result.stderr
    assert check["status"] == "verified" and check["tx"] == anchor["tx"] and check["block"] == landed.slot


def test_verifier_with_only_the_signer_and_no_receipt_finds_the_root(solana_chain, stamped, write_config, project, cli):
    """A verifier who holds no key and names the chain (no receipt to read): the signer's history is scanned."""
    config, bundle_path = stamped
    table = {k: v for k, v in solana_chain.table().items() if k != "key"}
    other = write_config({"mine": {**table, "signer": solana_chain.signer}}, path=project / "verifier.toml")
    result, check = _verify(cli, other, str(bundle_path), "--chain", "mine")
    assert result.exit_code == 0, result.output + result.stderr
    assert check["status"] == "verified"


def test_a_receipt_pointing_at_another_anchor_fails_naming_the_memo(solana_chain, stamped, project, cli):
    config, bundle_path = stamped
    (project / "b.txt").write_text("another root\n")
    assert cli("--config", config, "stamp", "b.txt").exit_code == 0
    other = json.loads(next(project.glob("b.txt*.bctrace.json")).read_text())["anchors"][0]
    bundle = json.loads(bundle_path.read_text())
    bundle["anchors"][0]["tx"] = other["tx"]
    bundle_path.write_text(json.dumps(bundle))
    result, check = _verify(cli, config, str(bundle_path))
    assert result.exit_code == 1
    assert check["status"] == "tampered"
    assert f"does not anchor root {bundle['merkle']['root']}: its memo is 'bctrace:{json.loads(next(project.glob('b.txt*.bctrace.json')).read_text())['merkle']['root']}'" in check["reason"]


def test_a_wrong_signer_fails_naming_both_keys(solana_chain, stamped, write_config, project, cli):
    config, bundle_path = stamped
    stranger = str(Keypair().pubkey())
    table = {k: v for k, v in solana_chain.table().items() if k != "key"}
    other = write_config({"solana-local": {**table, "signer": stranger}}, path=project / "verifier.toml")
    result, check = _verify(cli, other, str(bundle_path))
    assert result.exit_code == 1
    assert check["status"] == "tampered"
    assert f"was signed by {solana_chain.signer}, not by the configured signer {stranger}" in check["reason"]


def test_a_missing_transaction_fails_naming_it(solana_chain, stamped, cli):
    config, bundle_path = stamped
    bundle = json.loads(bundle_path.read_text())
    bundle["anchors"][0]["tx"] = "0x" + "11" * 64
    bundle_path.write_text(json.dumps(bundle))
    result, check = _verify(cli, config, str(bundle_path))
    assert result.exit_code == 1
    assert check["status"] == "tampered"
    assert "is not on the chain" in check["reason"] and "transaction " in check["reason"]


def test_a_stopped_node_is_unreachable_exit_3(solana_chain, stamped, cli):
    config, bundle_path = stamped
    solana_chain.node.stop()
    result, check = _verify(cli, config, str(bundle_path))
    assert result.exit_code == 3, result.output + result.stderr
    assert check["status"] == "unreachable"


def test_chains_estimate_shows_the_fee_in_sol(stamped, cli):
    config, _ = stamped
    result = cli("--config", config, "chains", "--estimate", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    assert "0.000005 SOL" in result.output


def test_a_node_of_another_cluster_is_refused_before_anything_is_sent(solana_chain, write_config, project, cli):
    devnet = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"
    config = write_config({"sol": solana_chain.table(genesis_hash=devnet)}, default_chains=["sol"], path=project / "bctrace.toml")
    (project / "a.txt").write_text("must not land on the wrong cluster\n")
    result = cli("--config", config, "stamp", "a.txt")
    assert result.exit_code != 0
    assert f"the node's genesis hash is {solana_chain.node.genesis_hash}, config says {devnet}" in result.stderr
    assert solana_chain.node.landed == {}
