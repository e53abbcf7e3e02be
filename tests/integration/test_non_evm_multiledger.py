"""One record anchored on the local ledger, an anvil chain, Solana (LiteSVM behind JSON-RPC) and
Bitcoin through OpenTimestamps (two local calendars and a local header source): verify under
policy all once the Bitcoin anchor is upgraded, then with a ledger stopped under k-of-n; and
before the upgrade, the pending Bitcoin anchor counts toward no policy."""

from __future__ import annotations

import json

import pytest

from bctrace import Tracer
from bctrace.errors import PolicyNotMet

pytestmark = pytest.mark.integration


@pytest.fixture
def four_ledgers(evm_chain, solana_chain, ots_network, write_config, project):
    tables = {"local": {"backend": "local"}, "eth": evm_chain.table(), "sol": solana_chain.table(), "btc": ots_network.table()}
    return evm_chain, solana_chain, ots_network, write_config(tables, path=project / "bctrace.toml")


def _statuses(result):
    return {c["chain"]: c["status"] for c in json.loads(result.output)["results"][0]["chains"]}


@pytest.mark.parametrize("stopped", ["sol", "eth", "btc"])
def test_one_bundle_on_local_anvil_solana_and_bitcoin(four_ledgers, project, cli, stopped):
    evm_chain, solana_chain, ots_network, config = four_ledgers
    (project / "a.txt").write_text("one record, four kinds of ledger\n")
    assert cli("--config", config, "stamp", "a.txt").exit_code == 0
    bundle = json.loads(next(project.glob("a.txt*.bctrace.json")).read_text())
    assert sorted(a["backend"] for a in bundle["anchors"]) == ["evm", "local", "opentimestamps", "solana"]

    pending = cli("--config", config, "verify", "a.txt", "--policy", "all", "--json")
    assert pending.exit_code == 1 and _statuses(pending)["btc"] == "pending"
    assert cli("--config", config, "verify", "a.txt", "--policy", "3").exit_code == 0
    assert cli("--config", config, "verify", "a.txt", "--policy", "4").exit_code == 1  # pending never counts

    ots_network.mine()
    assert cli("--config", config, "upgrade").exit_code == 0
    verified = cli("--config", config, "verify", "a.txt", "--policy", "all", "--json")
    assert verified.exit_code == 0, verified.output + verified.stderr
    assert _statuses(verified) == {"local": "verified", "eth": "verified", "sol": "verified", "btc": "verified"}

    {"sol": solana_chain.node, "eth": evm_chain.node, "btc": ots_network}[stopped].stop()
    with Tracer.from_config(config) as tracer:
        with pytest.raises(PolicyNotMet, match=f"{stopped}: unreachable"):
            tracer.verify(project / "a.txt", policy="all")
        report = tracer.verify(project / "a.txt", policy=3)
        assert report.ok and report.verified_count == 3
    assert cli("--config", config, "verify", "a.txt", "--policy", "3").exit_code == 0
    assert cli("--config", config, "verify", "a.txt", "--policy", "4").exit_code == 3
