"""Verifying a bundle with no config at all, by naming RPC endpoints: one provider, or two
providers of the same chain so that neither is trusted alone."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def test_verify_by_rpc_without_config(evm_chain_factory, write_config, project, tmp_path, cli, monkeypatch):
    honest = evm_chain_factory(1, name="eth")
    config = write_config({"eth": honest.table()}, path=project / "bctrace.toml")
    (project / "paper.txt").write_text("a claim worth timestamping\n")
    assert cli("--config", config, "stamp", "paper.txt").exit_code == 0
    bundle = project / "paper.txt.bctrace.json"

    # A stranger with only the bundle: no config, a different folder.
    elsewhere = tmp_path / "stranger"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = honest.node.url
    ok = cli("verify", bundle, "--rpc", f"1={url}", "--json")
    assert ok.exit_code == 0, ok.output
    (check,) = json.loads(ok.stdout)["results"][0]["chains"]
    assert check["status"] == "verified" and check["chain_id"] == 1

    # A second "provider" of chain 1 that has the same registry but never saw the anchor.
    liar = evm_chain_factory(1, name="other")
    assert liar.contract == honest.contract  # same deployer, same nonce: same address
    both = cli("verify", bundle, "--rpc", f"1={url}", "--rpc", f"1={liar.node.url}", "--policy", "all")
    # Both providers speak for one chain: they disagree, so the chain is disputed (not counted).
    assert both.exit_code == 1
    assert "disputed" in both.output and "missing" in both.output and "0 of 1 distinct chains verified" in both.output
    assert cli("verify", bundle, "--rpc", f"1={url}", "--rpc", f"1={liar.node.url}", "--policy", "any").exit_code == 0


def test_rpc_for_a_chain_the_bundle_was_not_anchored_on(evm_chain_factory, write_config, project, cli):
    chain = evm_chain_factory(1, name="eth")
    config = write_config({"eth": chain.table()}, path=project / "bctrace.toml")
    (project / "a.txt").write_text("a")
    assert cli("--config", config, "stamp", "a.txt").exit_code == 0
    wrong = cli("--config", config, "verify", "a.txt", "--rpc", f"5={chain.node.url}")
    assert wrong.exit_code == 1 and "no anchor on chain id 5" in wrong.output
    bad = cli("--config", config, "verify", "a.txt", "--rpc", "one=http://x")
    assert bad.exit_code == 2 and "CHAIN_ID=URL" in bad.output
