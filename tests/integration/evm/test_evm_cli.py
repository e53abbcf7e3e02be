"""`bctrace deploy` and `bctrace devnet` against real anvil nodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_deploy_prints_the_config_line_and_the_contract_works(anvil_factory, signer, write_config, project, cli):
    node = anvil_factory(10)
    node.fund(signer.address)
    table = {"backend": "evm", "rpc_url": node.url, "chain_id": 10, "key": signer.ref, "poll_interval": 0.05}
    config = write_config({"op": table}, path=project / "bctrace.toml")
    result = cli("--config", config, "evm", "deploy", "--chain", "op")
    assert result.exit_code == 0, result.output
    line = next(l.strip() for l in result.output.splitlines() if l.strip().startswith("contract = "))
    address = line.split('"')[1]
    assert node.rpc("eth_getCode", [address, "latest"]) not in ("0x", None)

    write_config({"op": {**table, "contract": address}}, path=config)
    (project / "a.txt").write_text("deployed by the CLI\n")
    assert cli("--config", config, "stamp", "a.txt").exit_code == 0
    verified = cli("--config", config, "verify", "a.txt", "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["results"][0]["chains"][0]["status"] == "verified"


def test_deploy_on_a_non_evm_chain_is_a_usage_error(write_config, project, cli):
    config = write_config({"local": {"backend": "local"}}, path=project / "bctrace.toml")
    result = cli("--config", config, "evm", "deploy", "--chain", "local")
    assert result.exit_code == 2
    assert "backend \"evm\"" in result.output + result.stderr


def test_deploy_to_an_unreachable_node_is_exit_3(write_config, project, cli, signer):
    table = {"backend": "evm", "rpc_url": "http://127.0.0.1:9", "chain_id": 10, "key": signer.ref, "rpc_timeout": 2}
    config = write_config({"op": table}, path=project / "bctrace.toml")
    result = cli("--config", config, "evm", "deploy", "--chain", "op")
    assert result.exit_code == 3
    assert "chain 'op'" in result.stderr and "Traceback" not in result.output + result.stderr


@pytest.mark.slow
def test_devnet_starts_chains_writes_config_and_stops_them(anvil_binary, tmp_path):
    env = {**os.environ, "BCTRACE_ANVIL": str(anvil_binary), "BCTRACE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    bctrace = [sys.executable, "-c", "from bctrace.cli import main; main()"]
    proc = subprocess.Popen([*bctrace, "evm", "devnet", "--chain-id", "1", "--chain-id", "1337", "--free-gas"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "devnet ready" in line:
                break
        assert any("devnet ready" in l for l in lines), "".join(lines)
        state = json.loads((tmp_path / ".bctrace" / "devnet" / "devnet.json").read_text())
        pids = [n["pid"] for n in state["nodes"]]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        config = (tmp_path / "bctrace.toml").read_text()
        # no private key is made at all: the nodes impersonate a funded account
        assert "node_account = " in config and "key =" not in config and "keystore" not in config
        assert sorted(p.name for p in (tmp_path / ".bctrace" / "devnet").iterdir() if not p.name.endswith(".log")) == ["devnet.json"]

        (tmp_path / "a.txt").write_text("devnet\n")
        run_env = env
        stamped = subprocess.run([*bctrace, "stamp", "a.txt"], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=60)
        assert stamped.returncode == 0, stamped.stderr
        verified = subprocess.run([*bctrace, "verify", "a.txt", "--json"], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=60)
        assert verified.returncode == 0, verified.stderr
        chains = {c["chain"]: c["status"] for c in json.loads(verified.stdout)["results"][0]["chains"]}
        assert chains == {"local": "verified", "devnet-1": "verified", "devnet-1337": "verified"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "devnet stopped (2 chains)" in out
    assert not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as stopped
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
