"""One address per trace (issue 14, item 5): with ``trace_seed`` set, a flush anchors each trace
apart, from the trace's own account derived from the seed (funded from the main key), and verify
checks on chain that the registry's stored sender is the one the bundle names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from bctrace import Tracer

pytestmark = pytest.mark.integration

MNEMONIC = "test test test test test test test test test test test junk"


@pytest.fixture
def per_trace(evm_chain, write_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRACE_SEED", MNEMONIC)
    monkeypatch.chdir(tmp_path)
    config = write_config({"anvil": evm_chain.table(trace_seed="env:TRACE_SEED")})
    return evm_chain, config


def test_every_anchor_of_a_trace_comes_from_its_own_address(per_trace, cli, tmp_path: Path) -> None:
    from bctrace_backends.evm import artifact
    from bctrace_backends.evm.trace_accounts import trace_path

    chain, config = per_trace
    with Tracer.from_config(config) as tracer:
        steps = {}
        for trace_id in ("donation-a", "donation-b"):
            trace = tracer.trace(trace_id)
            steps[trace_id] = [trace.record("step", {"n": n}, bundle_dir=tmp_path / "bundles") for n in range(2)]
        first = tracer.flush()
        later = tracer.trace("donation-a").record("step", {"n": 2}, bundle_dir=tmp_path / "bundles")
        steps["donation-a"].append(later)
        second = tracer.flush()
    assert len(first.batches) == 2 and len(second.batches) == 1  # one anchor per trace per flush

    w3 = Web3(Web3.HTTPProvider(chain.node.url))
    registry = w3.eth.contract(address=Web3.to_checksum_address(chain.contract), abi=artifact.abi())
    addresses = {}
    for trace_id, recorded in steps.items():
        shown = cli("--config", config, "trace", "address", trace_id, "--json")
        assert shown.exit_code == 0, shown.output
        [row] = json.loads(shown.stdout)["addresses"]
        addresses[trace_id] = row["address"]
        assert row["path"] == trace_path(trace_id)
        for rec in recorded:
            bundle = json.loads((tmp_path / "bundles" / f"{rec.digest_hex}.bctrace.json").read_text())
            [anchor] = bundle["anchors"]
            assert anchor["sender"] == row["address"] and anchor["sender_path"] == row["path"]
            assert w3.eth.get_transaction(anchor["tx"])["from"] == row["address"]  # the transaction itself
            assert registry.functions.anchors(bytes.fromhex(bundle["merkle"]["root"][2:])).call()[2] == row["address"]
    assert addresses["donation-a"] != addresses["donation-b"] != chain.signer.address

    for path in (tmp_path / "bundles").glob("*.bctrace.json"):
        result = cli("--config", config, "verify", path)
        assert result.exit_code == 0, result.output
    result = cli("--config", config, "verify", *(tmp_path / "bundles").glob("*.bctrace.json"))
    assert result.exit_code == 0, result.output  # both traces whole and linked


def test_the_trace_account_is_funded_from_the_main_key_only_when_it_must_pay(per_trace, tmp_path: Path) -> None:
    chain, config = per_trace
    w3 = Web3(Web3.HTTPProvider(chain.node.url))
    from bctrace_backends.evm.trace_accounts import trace_account

    account = trace_account("anvil", chain.config(trace_seed="env:TRACE_SEED"), "funded")
    assert w3.eth.get_balance(account.address) == 0
    with Tracer.from_config(config) as tracer:
        tracer.record("step", {"n": 0}, trace="funded", bundle_dir=tmp_path)
        tracer.flush()
        after_first = w3.eth.get_balance(account.address)
        main_nonce = w3.eth.get_transaction_count(chain.signer.address)
        tracer.record("step", {"n": 1}, trace="funded", bundle_dir=tmp_path)
        tracer.flush()
    assert after_first > 0
    assert w3.eth.get_transaction_count(chain.signer.address) == main_nonce  # still funded: no second top-up
    assert w3.eth.get_transaction_count(account.address) == 2


def test_trace_address_without_a_seed_is_one_line(evm_chain, write_config, cli) -> None:
    config = write_config({"anvil": evm_chain.table()})
    result = cli("--config", config, "trace", "address", "t1")
    assert result.exit_code == 2 and "no configured chain has trace_seed" in result.stderr


@pytest.mark.parametrize("offline", [False, True], ids=["through the node", "from the chain proof"])
def test_verify_fails_when_the_bundle_names_another_sender(per_trace, cli, tmp_path: Path, offline: bool) -> None:
    """Through the node (the registry's ``anchors(root).sender``) and offline: the storage slot
    of a root in the chain proof packs its sender above block and time."""
    chain, config = per_trace
    with Tracer.from_config(config) as tracer:
        rec = tracer.record("step", {"n": 0}, trace="t", bundle_dir=tmp_path)
        tracer.flush()
    path = tmp_path / f"{rec.digest_hex}.bctrace.json"
    bundle = json.loads(path.read_text())
    anchor = bundle["anchors"][0]
    args = ["verify", "--trust-block", f"{anchor['chain_id']}={anchor['block_hash']}"] if offline else ["--config", config, "verify"]
    assert cli(*args, path).exit_code == 0
    anchor["sender"] = chain.signer.address  # the main key: not who anchored it
    path.write_text(json.dumps(bundle))
    result = cli(*args, path)
    assert result.exit_code == 1 and "sender: the registry says root" in result.output


def test_a_failed_funding_loses_nothing_and_the_next_flush_finishes(per_trace, tmp_path: Path) -> None:
    """The main key cannot fund the trace account: the flush fails with one chain error, the
    batch stays open, and once the main key has funds the next flush anchors it from the trace's
    address."""
    from bctrace.errors import ChainError

    chain, config = per_trace
    chain.node.fund(chain.signer.address, 0)
    with Tracer.from_config(config) as tracer:
        rec = tracer.record("step", {"n": 0}, trace="poor", bundle_dir=tmp_path)
        with pytest.raises(ChainError, match="insufficient funds"):
            tracer.flush()
        assert not (tmp_path / f"{rec.digest_hex}.bctrace.json").exists()
        assert len(tracer.outbox.open_batches()) == 1
        chain.node.fund(chain.signer.address)
        result = tracer.flush()
    assert result.records == 1
    anchor = json.loads((tmp_path / f"{rec.digest_hex}.bctrace.json").read_text())["anchors"][0]
    assert anchor["sender"] != chain.signer.address and "sender_path" in anchor
