"""Two providers of one chain, one of them lying (a loopback proxy in front of the honest node
that rewrites answers): verify asks both, reports the disagreement, and fails under --policy all."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def liar(lie: str):
    """A rewrite for ``rpc_proxy``: back-date the registry's answer, or change block hashes."""

    def rewrite(question: dict, answer: dict) -> None:
        result = answer.get("result")
        if lie == "eth_call" and question.get("method") == "eth_call" and isinstance(result, str) and len(result) == 2 + 3 * 64:
            # anchors(root) -> (timestamp, block, sender): back-date the anchor by a day
            answer["result"] = "0x" + f"{int(result[2:66], 16) - 86400:064x}" + result[66:]
        if lie == "block_hash" and question.get("method") == "eth_getBlockByNumber" and isinstance(result, dict):
            result["hash"] = "0x" + "ab" * 32

    return rewrite


@pytest.mark.parametrize("lie", ["eth_call", "block_hash"])
def test_one_lying_provider_is_a_dispute(lie, evm_chain_factory, write_config, project, cli, tmp_path, monkeypatch, rpc_proxy):
    chain = evm_chain_factory(1, name="eth")
    config = write_config({"eth": chain.table()}, path=project / "bctrace.toml")
    (project / "paper.txt").write_text("first!\n")
    assert cli("--config", config, "stamp", "paper.txt").exit_code == 0
    bundle = project / "paper.txt.bctrace.json"
    lying = rpc_proxy(chain.node.url, liar(lie))
    monkeypatch.chdir(tmp_path)

    alone = cli("verify", bundle, "--rpc", f"1={lying}")
    assert alone.exit_code == 1  # the liar contradicts the bundle, or itself
    both = cli("verify", bundle, "--rpc", f"1={chain.node.url}", "--rpc", f"1={lying}", "--policy", "all", "--json")
    assert both.exit_code == 1, both.output
    (check,) = json.loads(both.stdout)["results"][0]["chains"]
    assert check["status"] == "disputed"
    assert [w["status"] for w in check["witnesses"]] in (["verified", "mismatch"], ["verified", "tampered"])
    assert ("timestamp" if lie == "eth_call" else "block_hash") in check["reason"]
    assert cli("verify", bundle, "--rpc", f"1={chain.node.url}", "--rpc", f"1={lying}", "--policy", "1").exit_code == 1
    # "any" trusts any one witness: the honest node alone is enough
    assert cli("verify", bundle, "--rpc", f"1={chain.node.url}", "--rpc", f"1={lying}", "--policy", "any").exit_code == 0
