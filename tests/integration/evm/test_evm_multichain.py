"""Done-when of issue 3: one record anchored on three live anvil chains (chain ids 1, 10, 1337)
plus the local ledger; verify with policy all reports all four; a stopped node is named as
unreachable (exit 3) and policy any still passes. Through the Tracer and through the CLI."""

from __future__ import annotations

import json

import pytest

from bctrace import Tracer
from bctrace.errors import EXIT_CHAIN, PolicyNotMet

pytestmark = pytest.mark.integration

CHAINS = {"eth": 1, "op": 10, "private": 1337}


@pytest.fixture
def four_chains(evm_chain_factory, write_config, project):
    chains = {name: evm_chain_factory(cid, name=name, free_gas=(cid == 1337)) for name, cid in CHAINS.items()}
    tables = {"local": {"backend": "local"}, **{name: c.table() for name, c in chains.items()}}
    return chains, write_config(tables, path=project / "bctrace.toml")


def test_tracer_anchors_on_four_chains_and_names_the_unreachable_one(four_chains, project):
    chains, config = four_chains
    data = project / "a.txt"
    data.write_text("one record, four chains\n")
    with Tracer.from_config(config) as tracer:
        tracer.stamp(data)
        result = tracer.flush()
        assert result.records == 1 and len(result.batches) == 1
        anchors = result.batches[0]["anchors"]
        assert sorted(a["chain"] for a in anchors) == ["eth", "local", "op", "private"]
        assert {a["chain"]: a["chain_id"] for a in anchors if a["backend"] == "evm"} == CHAINS

        report = tracer.verify(data, policy="all")
        assert report.ok and report.verified_count == 4
        assert {c.chain: c.status for c in report.chains} == dict.fromkeys(["local", *CHAINS], "verified")

    chains["op"].node.stop()
    with Tracer.from_config(config) as tracer:
        with pytest.raises(PolicyNotMet) as info:
            tracer.verify(data, policy="all")
        assert info.value.exit_code == EXIT_CHAIN
        assert "op: unreachable" in str(info.value) and "3 of 4" in str(info.value)
        report = tracer.verify(data, policy="any")
        assert report.ok
        assert {c.chain: c.status for c in report.chains} == {"local": "verified", "eth": "verified", "op": "unreachable", "private": "verified"}
        assert tracer.verify(data, policy=3).ok


def test_cli_stamp_flush_verify_on_four_chains(four_chains, project, cli):
    chains, config = four_chains
    (project / "a.txt").write_text("through the command line\n")
    stamped = cli("--config", config, "stamp", "--no-flush", "a.txt")
    assert stamped.exit_code == 0, stamped.output
    flushed = cli("--config", config, "flush")
    assert flushed.exit_code == 0, flushed.output
    for name in CHAINS:
        assert name in flushed.output

    ok = cli("--config", config, "verify", "a.txt", "--policy", "all", "--json")
    assert ok.exit_code == 0, ok.output
    statuses = {c["chain"]: c["status"] for c in _reports(ok.output)[0]["chains"]}
    assert statuses == dict.fromkeys(["local", *CHAINS], "verified")

    chains["private"].node.stop()
    down = cli("--config", config, "verify", "a.txt", "--policy", "all")
    assert down.exit_code == EXIT_CHAIN, down.output
    assert "private" in down.output + down.stderr and "unreachable" in down.output + down.stderr
    assert "Traceback" not in down.output + down.stderr

    anyone = cli("--config", config, "verify", "a.txt", "--policy", "any", "--json")
    assert anyone.exit_code == 0, anyone.output
    statuses = {c["chain"]: c["status"] for c in _reports(anyone.output)[0]["chains"]}
    assert statuses["private"] == "unreachable" and statuses["eth"] == "verified"


def _reports(output: str) -> list[dict]:
    data = json.loads(output)
    return data["results"]
