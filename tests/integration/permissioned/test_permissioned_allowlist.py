"""The writer allowlist of a permissioned chain, end to end through the CLI: a non-allowed
writer's anchor fails with a clear NotPermitted error, nothing leaves the outbox, and after
`bctrace evm allow` the next flush anchors the same batch."""

from __future__ import annotations

import json
import uuid

import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3

pytestmark = pytest.mark.integration


@pytest.fixture
def writer(monkeypatch):
    account = Account.create()
    env = f"BCTRACE_TEST_WRITER_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setenv(env, account.key.to_0x_hex())
    return account.address, f"env:{env}"


def _registry(chain):
    from bctrace_backends.evm import artifact

    w3 = Web3(HTTPProvider(chain.node.url))
    return w3.eth.contract(address=Web3.to_checksum_address(chain.contract), abi=artifact.abi())


def test_not_allowed_writer_fails_clearly_keeps_the_batch_and_anchors_after_allow(permissioned_chain_factory, writer, write_config, project, cli):
    chain = permissioned_chain_factory("besu", name="perm")
    address, ref = writer
    config = write_config({"perm": chain.table(key=ref), "perm-admin": chain.table()}, default_chains=["perm"], path=project / "bctrace.toml")
    (project / "a.txt").write_text("a step of a private supply chain\n")

    refused = cli("--config", config, "stamp", "a.txt")
    assert refused.exit_code == 3
    message = refused.stderr.strip()
    assert "chain 'perm'" in message and address in message and "not allowed to write" in message
    assert f"bctrace evm allow --chain perm {address}" in message
    assert "Traceback" not in refused.output + refused.stderr and len(message.splitlines()) == 1

    status = json.loads(cli("--config", config, "status", "--json").output)
    assert [(b["chains"], b["anchored_on"]) for b in status["open_batches"]] == [(["perm"], [])]
    root = status["open_batches"][0]["root"]

    writers = json.loads(cli("--config", config, "evm", "writers", "--chain", "perm-admin", "--json").output)
    assert writers["owner"] == chain.signer.address and writers["writers"] == [chain.signer.address]

    allowed = cli("--config", config, "evm", "allow", "--chain", "perm-admin", address)
    assert allowed.exit_code == 0, allowed.output + allowed.stderr
    assert f"{address} is now allowed to anchor on chain 'perm-admin'" in allowed.output
    again = cli("--config", config, "evm", "allow", "--chain", "perm-admin", address)
    assert "already allowed" in again.output and again.exit_code == 0

    flushed = cli("--config", config, "flush", "--json")
    assert flushed.exit_code == 0, flushed.output + flushed.stderr
    batches = json.loads(flushed.output)["batches"]
    assert [b["root"] for b in batches] == [root] and batches[0]["records"] == 1
    assert _registry(chain).functions.anchors(bytes.fromhex(root[2:])).call()[2] == address

    verified = cli("--config", config, "verify", "a.txt", "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["results"][0]["chains"][0]["status"] == "verified"

    revoked = cli("--config", config, "evm", "revoke", "--chain", "perm-admin", address)
    assert revoked.exit_code == 0 and "no longer allowed" in revoked.output
    assert json.loads(cli("--config", config, "evm", "writers", "--chain", "perm-admin", "--json").output)["writers"] == [chain.signer.address]
    (project / "b.txt").write_text("after revocation\n")
    assert cli("--config", config, "stamp", "b.txt").exit_code == 3


def test_the_same_flow_through_the_tracer(permissioned_chain_factory, writer, tmp_path):
    from bctrace.errors import NotPermitted
    from bctrace._internal.tracer import Tracer

    from bctrace_backends.evm.writers import set_writer

    chain = permissioned_chain_factory("quorum", name="q")
    address, ref = writer
    toml = tmp_path / "bctrace.toml"
    table = chain.table(key=ref)
    toml.write_text('state_dir = ".bctrace"\n[chains.q]\n' + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items()))
    with Tracer.from_config(toml) as tracer:
        recorded = tracer.stamp_text("a donation received")
        with pytest.raises(NotPermitted, match=r"chain 'q'.*not allowed to write"):
            tracer.flush()
        assert tracer.outbox.open_batches() and not tracer.outbox.anchors(tracer.outbox.open_batches()[0].id)
        set_writer(chain.backend(tmp_path), address, True)
        result = tracer.flush()
        assert result.records == 1
        assert tracer.verify(tracer.bundle(recorded.digest)).ok


def test_deploy_on_a_besu_chain_turns_the_allowlist_on(anvil_factory, signer, write_config, project, cli):
    node = anvil_factory(1337, free_gas=True)
    table = {"backend": "besu", "rpc_url": node.url, "chain_id": 1337, "key": signer.ref, "poll_interval": 0.05}
    config = write_config({"perm": table}, path=project / "bctrace.toml")
    result = cli("--config", config, "evm", "deploy", "--chain", "perm", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    done = json.loads(result.output)
    assert done["restricted"] is True
    w3 = Web3(HTTPProvider(node.url))
    from bctrace_backends.evm import artifact

    registry = w3.eth.contract(address=done["address"], abi=artifact.abi())
    assert registry.functions.restricted().call() is True
    assert registry.functions.allowed(signer.address).call() is True
    assert w3.eth.get_balance(signer.address) == 0  # free gas: the deployer never had any ether


def test_allowlist_commands_refuse_what_cannot_work(evm_chain_factory, permissioned_chain_factory, writer, write_config, project, cli):
    open_chain = evm_chain_factory(31337, name="open")
    perm = permissioned_chain_factory("besu", name="perm")
    address, ref = writer
    config = write_config({"open": open_chain.table(), "perm-writer": perm.table(key=ref), "local": {"backend": "local"}},
                          path=project / "bctrace.toml")

    on_open = cli("--config", config, "evm", "allow", "--chain", "open", address)
    assert on_open.exit_code == 2 and "is open" in on_open.stderr and "--restricted" in on_open.stderr

    not_owner = cli("--config", config, "evm", "allow", "--chain", "perm-writer", Account.create().address)
    assert not_owner.exit_code == 3 and "not the owner" in not_owner.stderr and "chain 'perm-writer'" in not_owner.stderr

    bad = cli("--config", config, "evm", "allow", "--chain", "perm-writer", "0x1234")
    assert bad.exit_code == 2 and "not an address" in bad.stderr

    local = cli("--config", config, "evm", "writers", "--chain", "local")
    assert local.exit_code == 2 and "no writer allowlist" in local.stderr
