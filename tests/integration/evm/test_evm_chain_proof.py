"""Chain proofs of EVM anchors: verification from a trusted block hash alone, with the node
stopped, on every hardfork anvil runs and on an OP-stack node; every edit of an anchor is caught."""

from __future__ import annotations

import copy
import json

import pytest
from bundle_fuzz import leaves

pytestmark = pytest.mark.integration

FORKS = [["--hardfork", "london"], ["--hardfork", "shanghai"], ["--hardfork", "cancun"], ["--hardfork", "prague"],
         ["--optimism"]]


def anchored_bundle(evm_chain_factory, write_config, project, cli, chain_id=1, extra_args=()):
    chain = evm_chain_factory(chain_id, name="eth", extra_args=list(extra_args))
    config = write_config({"eth": chain.table()}, path=project / "bctrace.toml")
    (project / "paper.txt").write_text("a claim worth timestamping\n")
    result = cli("--config", config, "stamp", "paper.txt")
    assert result.exit_code == 0, result.output
    path = project / "paper.txt.bctrace.json"
    return chain, config, path, json.loads(path.read_text())


def write(tmp_path, data, name="edited.bctrace.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1))
    return path


@pytest.mark.parametrize("fork", FORKS, ids=lambda f: f[-1].lstrip("-"))
def test_trust_block_verifies_with_the_node_stopped(fork, evm_chain_factory, write_config, project, cli, tmp_path,
                                                    monkeypatch):
    chain, _, path, data = anchored_bundle(evm_chain_factory, write_config, project, cli, extra_args=fork)
    (anchor,) = data["anchors"]
    assert anchor["chain_proof"]["format"] == "evm-mpt-v1" and anchor["block_hash"]
    other_block = chain.node.rpc("eth_getBlockByNumber", ["0x1", False])
    chain.node.stop()
    assert not chain.node.running()
    monkeypatch.chdir(tmp_path)  # a stranger: no config

    ok = cli("verify", path, "--trust-block", f"1={anchor['block_hash']}", "--json")
    assert ok.exit_code == 0, ok.output
    (check,) = json.loads(ok.stdout)["results"][0]["chains"]
    assert check["status"] == "verified" and check["timestamp"] == anchor["timestamp"]

    wrong_hash = cli("verify", path, "--trust-block", f"1={other_block['hash']}")
    assert wrong_hash.exit_code == 1 and "block_hash" in wrong_hash.output

    edited = copy.deepcopy(data)
    edited["anchors"][0]["chain_proof"]["header"] = "0x" + _header_of(other_block)
    edited["anchors"][0]["block_hash"] = other_block["hash"]
    from_other = cli("verify", write(tmp_path, edited), "--trust-block", f"1={other_block['hash']}")
    assert from_other.exit_code == 1 and ("block" in from_other.output), from_other.output

    for field in ("account_proof", "storage_proof", "tx_proof"):
        edited = copy.deepcopy(data)
        nodes = edited["anchors"][0]["chain_proof"][field]
        last = nodes[-1]
        nodes[-1] = last[:-4] + ("00" if last[-4:-2] != "00" else "11") + last[-2:]
        result = cli("verify", write(tmp_path, edited), "--trust-block", f"1={anchor['block_hash']}")
        assert result.exit_code == 1, (field, result.output)


def _header_of(block):
    from bctrace_backends.evm.chainproof import header_rlp

    return header_rlp(block).hex()


def changed(value):
    """One single-value change that keeps the JSON type (and hex strings lowercase hex)."""
    if isinstance(value, str) and value.startswith("0x") and len(value) > 2:
        i = len(value) // 2
        return value[:i] + ("1" if value[i] != "1" else "2") + value[i + 1:]
    return value + 1 if isinstance(value, int) and not isinstance(value, bool) else value + "x"


def _set(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


EXPECTED_WORD = {"record": "record", "digest": "digest", "merkle": "root", "chain_id": "chain_id", "contract": "contract",
                 "tx": "tx", "block": "block", "timestamp": "timestamp", "block_hash": "block_hash", "chain_proof": "chain_proof"}
"""The field a reason must name, by the first key of the changed path under the bundle / anchor."""


@pytest.mark.parametrize("mode", ["rpc", "trust-block"])
def test_every_single_field_change_fails_naming_the_field(mode, evm_chain_factory, write_config, project, cli, tmp_path,
                                                          monkeypatch):
    chain, _, path, data = anchored_bundle(evm_chain_factory, write_config, project, cli)
    anchor = data["anchors"][0]
    how = ["--rpc", f"1={chain.node.url}"] if mode == "rpc" else ["--trust-block", f"1={anchor['block_hash']}"]
    if mode == "trust-block":
        chain.node.stop()
    monkeypatch.chdir(tmp_path)
    assert cli("verify", path, *how).exit_code == 0
    checked = 0
    for leaf, value in leaves(data):
        top = leaf[0]
        if top in ("bctrace",) or (top == "merkle" and leaf[1] == "format"):
            continue
        if top == "anchors":
            if leaf[2] in ("chain", "backend"):  # labels, not claims (README)
                continue
            if leaf[2] == "chain_proof" and leaf[3] == "format":
                continue
            word = EXPECTED_WORD[leaf[2]]
        else:
            word = EXPECTED_WORD[top]
        edited = copy.deepcopy(data)
        _set(edited, leaf, changed(value))
        result = cli("verify", write(tmp_path, edited), *how)
        assert result.exit_code == 1, (leaf, result.output)
        if word == "record":
            assert "record edited" in result.output, (leaf, result.output)
        else:
            assert word in result.output, (leaf, word, result.output)
        checked += 1
    assert checked >= 20


@pytest.fixture
def evm_bundle_offline(evm_chain_factory, write_config, project, cli, tmp_path_factory):
    chain, _, path, data = anchored_bundle(evm_chain_factory, write_config, project, cli)
    chain.node.stop()
    return path.read_text(), f"1={data['anchors'][0]['block_hash']}"


def test_fuzzed_evm_bundles_with_a_trusted_block(evm_bundle_offline, cli, tmp_path):
    """Mutated EVM bundles with chain proofs, checked offline: no crash, documented exit codes,
    and none that claims something the original did not verifies."""
    from bundle_fuzz import ci, fuzz_once, mutated_text
    from hypothesis import given
    from hypothesis import strategies as st

    original, trusted = evm_bundle_offline

    @ci(300)
    @given(st.data())
    def run(data):
        fuzz_once(cli, tmp_path / "fuzz.bctrace.json", original, data.draw(mutated_text(original)), ["--trust-block", trusted])

    run()
