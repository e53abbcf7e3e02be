"""``verify --rpc`` builds its backends with ``ChainBackend.from_endpoint`` (no chain code in the
core): a backend that cannot be asked at a URL refuses in one line, and a receipt from a backend
that is not installed is named. The EVM family's implementation runs against anvil in
tests/integration/evm/test_evm_rpc_verify.py."""

from __future__ import annotations

import json


def test_a_backend_without_endpoints_refuses_in_one_line(project, cli):
    (project / "a.txt").write_text("a")
    assert cli("stamp", "a.txt").exit_code == 0
    chain_id = json.loads((project / "a.txt.bctrace.json").read_text())["anchors"][0]["chain_id"]
    result = cli("verify", "a.txt", "--rpc", f"{chain_id}=http://127.0.0.1:9")
    assert result.exit_code == 2
    assert result.output.strip().endswith(f"--rpc {chain_id}=…: backend 'local' cannot check an anchor at an endpoint URL; "
                                          "configure a [chains.NAME] table for it instead")


def test_a_receipt_from_a_backend_not_installed_is_named(project, cli):
    (project / "a.txt").write_text("a")
    assert cli("stamp", "a.txt").exit_code == 0
    path = project / "a.txt.bctrace.json"
    bundle = json.loads(path.read_text())
    bundle["anchors"][0]["backend"] = "tezos"
    path.write_text(json.dumps(bundle))
    chain_id = bundle["anchors"][0]["chain_id"]
    result = cli("verify", "a.txt", "--rpc", f"{chain_id}=http://127.0.0.1:9")
    assert result.exit_code == 2 and "unknown backend 'tezos'" in result.output
